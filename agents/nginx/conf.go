package nginx

import (
	"fmt"
	"net"
	"strings"
)

// This file reads the configuration nginx itself prints with -T: every
// file it read, each after a "# configuration file PATH:" line. The
// agent needs three facts from it, and lets nginx do all the rest of the
// parsing: whether the configuration sets its own pid file, whether it
// turns daemon mode off, and where it listens (for the readiness check
// of start).

// statement is one directive of a configuration file.
type statement struct {
	File   string
	Line   int
	Name   string
	Args   []string
	Depth  int    // blocks around it within its file
	Parent string // the directive whose block holds it ("" at depth 0)
}

// dumpInfo is what the agent learns from a configuration dump.
type dumpInfo struct {
	// Pid is the argument of a main-level pid directive ("" if none).
	Pid string
	// DaemonOff is set by a main-level "daemon off".
	DaemonOff bool
	// Listen holds the stream (TCP or unix socket) listen addresses, in
	// the order they appear.
	Listen []string
}

const dumpHeader = "# configuration file "

// splitDump cuts an `nginx -T` dump into its files, in order.
func splitDump(dump string) (names, texts []string) {
	var cur strings.Builder
	open := false
	flush := func() {
		if open {
			texts = append(texts, cur.String())
			cur.Reset()
		}
	}
	for line := range strings.Lines(dump) {
		l := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(l, dumpHeader) && strings.HasSuffix(l, ":") {
			flush()
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(l, dumpHeader), ":"))
			open = true
			continue
		}
		if open {
			cur.WriteString(line)
		}
	}
	flush()
	return names, texts
}

// parseDump reads the facts the agent needs from an `nginx -T` dump.
// nginx has already accepted the configuration, so the rules are loose:
// a pid or daemon directive at the top of any file is a main-level one
// (nginx allows them nowhere else), and a listen directive counts when
// it is in a server block or at the top of an included file.
func parseDump(dump string) (*dumpInfo, error) {
	names, texts := splitDump(dump)
	if len(names) == 0 {
		return nil, fmt.Errorf("no configuration files in the dump")
	}
	info := &dumpInfo{}
	for i, text := range texts {
		stmts, err := parseStatements(names[i], text)
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			switch {
			case s.Name == "pid" && s.Depth == 0 && len(s.Args) == 1:
				info.Pid = s.Args[0]
			case s.Name == "daemon" && s.Depth == 0 && len(s.Args) == 1:
				info.DaemonOff = s.Args[0] == "off"
			case s.Name == "listen" && len(s.Args) > 0 && (s.Parent == "server" || (s.Depth == 0 && i > 0)):
				if streamListen(s.Args[1:]) {
					info.Listen = append(info.Listen, s.Args[0])
				}
			}
		}
	}
	return info, nil
}

// streamListen reports whether a listen directive's flags leave it a
// stream socket (not udp or quic).
func streamListen(flags []string) bool {
	for _, f := range flags {
		if f == "udp" || f == "quic" {
			return false
		}
	}
	return true
}

// parseStatements splits one configuration file into directives, as
// nginx's own tokenizer does: words separated by white space, ';' ends a
// directive, '{' opens its block and '}' closes it, '#' starts a comment
// outside quotes, quotes group words with backslash escapes, and "${"
// inside a word is part of a variable, not a block.
func parseStatements(file, text string) ([]statement, error) {
	var (
		out    []statement
		words  []string
		word   strings.Builder
		inWord bool
		line   = 1
		start  = 1
		parent []string
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	emit := func() {
		if len(words) == 0 {
			return
		}
		s := statement{File: file, Line: start, Name: words[0], Args: words[1:], Depth: len(parent)}
		if len(parent) > 0 {
			s.Parent = parent[len(parent)-1]
		}
		out = append(out, s)
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			line++
			endWord()
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		case c == '#' && !inWord:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i-- // the newline is counted above
		case c == '"' || c == '\'':
			if !inWord && len(words) == 0 {
				start = line
			}
			inWord = true
			j := i + 1
			for ; j < len(text) && text[j] != c; j++ {
				if text[j] == '\\' && j+1 < len(text) {
					j++
					switch text[j] {
					case 'n':
						word.WriteByte('\n')
						continue
					case 't':
						word.WriteByte('\t')
						continue
					case 'r':
						word.WriteByte('\r')
						continue
					}
				}
				if text[j] == '\n' {
					line++
				}
				word.WriteByte(text[j])
			}
			if j >= len(text) {
				return nil, fmt.Errorf("%s:%d: unterminated quote", file, line)
			}
			i = j
		case c == '{' && inWord && strings.HasSuffix(word.String(), "$"):
			// ${var}: the variable runs to the closing brace.
			j := strings.IndexByte(text[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated variable", file, line)
			}
			word.WriteString(text[i : i+j+1])
			i += j
		case c == ';':
			endWord()
			emit()
			words = nil
		case c == '{':
			endWord()
			emit()
			if len(words) > 0 {
				parent = append(parent, words[0])
			} else {
				parent = append(parent, "")
			}
			words = nil
		case c == '}':
			endWord()
			if len(words) > 0 {
				return nil, fmt.Errorf("%s:%d: unexpected \"}\" after %q", file, line, words[0])
			}
			if len(parent) == 0 {
				return nil, fmt.Errorf("%s:%d: unexpected \"}\"", file, line)
			}
			parent = parent[:len(parent)-1]
		default:
			if c == '\\' && i+1 < len(text) {
				i++
				c = text[i]
			}
			if !inWord && len(words) == 0 {
				start = line
			}
			inWord = true
			word.WriteByte(c)
		}
	}
	endWord()
	if len(words) > 0 {
		return nil, fmt.Errorf("%s: directive %q has no ending \";\"", file, words[0])
	}
	if len(parent) > 0 {
		return nil, fmt.Errorf("%s: block %q has no closing \"}\"", file, parent[len(parent)-1])
	}
	return out, nil
}

// dialTarget turns a listen address into what to connect to for the
// readiness check: the wildcard (port only, "*", 0.0.0.0, [::]) becomes
// the loopback address of its family, a missing port 80, "unix:PATH" a
// unix socket.
func dialTarget(listen string) (network, addr string) {
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		return "unix", p
	}
	host, port := listen, "80"
	switch {
	case isPort(listen):
		host, port = "", listen
	case strings.HasPrefix(listen, "["):
		if h, p, err := net.SplitHostPort(listen); err == nil {
			host, port = h, p
		} else {
			host = strings.Trim(listen, "[]")
		}
	case strings.Contains(listen, ":"):
		if h, p, err := net.SplitHostPort(listen); err == nil {
			host, port = h, p
		}
	}
	switch host {
	case "", "*", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "tcp", net.JoinHostPort(host, port)
}

func isPort(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
