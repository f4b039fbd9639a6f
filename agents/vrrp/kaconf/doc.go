// Package kaconf reads the VRRP part of a keepalived.conf, so that
// Paceline's VRRP runs existing keepalived configurations unchanged:
// global_defs, vrrp_script, vrrp_instance and vrrp_sync_group, with
// keepalived's syntax (comments, quoting, include with globs, $PARAMETER
// definitions, @ID conditional lines) and keepalived's defaults and
// adjustments.
//
//	keepalived.conf --+
//	 + included files |  lexer (lex.go, include.go)     logical lines
//	                  +-> comments, @ID, $NAME, include -> with file:line
//	                                                            |
//	                      tree (tree.go)                        v
//	                      blocks { } -> []*Node {Keyword, Args, Block, File, Line}
//	                                                            |
//	  typed layer, in file order (parse.go, global.go,          v
//	  script.go, instance.go, track.go, syncgroup.go) -> directives read
//	                                                            |
//	  completion (complete.go): defaults that depend on         v
//	  others, keepalived's adjustments, sync groups, VRIDs -> *Config
//
// Every directive Paceline does not read (LVS virtual_server, use_vmac,
// a misspelt keyword, ...) is a Warning with its file and line, and its
// block is skipped with it; so is every value keepalived would adjust
// (nopreempt with state MASTER, ...), which is adjusted the same way. A
// syntax error, a value keepalived would ignore or replace, and a broken
// reference are errors with their file and line. README.md lists what is
// supported and the decisions taken.
//
// Parse reads a file as keepalived would on this host (its config ID is
// the host name); ParseFile takes the Options explicitly and ParseReader
// reads from an io.Reader. ReadTree stops after the tree, for tools that
// want the directives themselves.
package kaconf
