package kaconf

import (
	"errors"
	"fmt"
	"strings"
)

// This file reads script command lines. keepalived re-reads the whole line
// of script, notify_master and the like with alloc_strvec_quoted_escaped()
// (lib/parser.c), and then re-reads its second word the same way to get the
// program and its arguments (set_script_params_array, lib/notify.c):
//
//	notify_master "/etc/keepalived/to_master.sh 'my arg'" user group
//
// runs /etc/keepalived/to_master.sh with the one argument "my arg" as user
// and group. Unquoted, "notify_master /x.sh arg" takes arg as the user.
// keepalived.conf(5), "Quoted strings".

// splitQuoted splits s into words as alloc_strvec_quoted_escaped(): at
// white space outside quotes; "..." and '...' group (the quotes go); a
// backslash escapes: \a \b \E \f \n \r \t \v, \nnn (octal, up to 3 digits),
// \xHH... (hex), \cC (control character) and \C for any other C.
func splitQuoted(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		var w []byte
		var quote byte
	word:
		for {
			stop := whiteSpace + `'"\`
			switch quote {
			case '"':
				stop = `"\`
			case '\'':
				stop = `'\`
			}
			j := strings.IndexAny(s[i:], stop)
			if j < 0 {
				if quote != 0 {
					return nil, fmt.Errorf("missing terminating %c in %q", quote, s)
				}
				w = append(w, s[i:]...)
				i = len(s)
				break word
			}
			w = append(w, s[i:i+j]...)
			i += j
			switch c := s[i]; {
			case c == '\\':
				b, n, err := unescapeAt(s, i+1)
				if err != nil {
					return nil, err
				}
				w = append(w, b)
				i += 1 + n
			case quote != 0:
				quote = 0
				i++
			case c == '"' || c == '\'':
				quote = c
				i++
			default:
				break word
			}
		}
		words = append(words, string(w))
	}
}

// unescapeAt reads the escape after a backslash at s[i-1]; n is the number
// of bytes it takes.
func unescapeAt(s string, i int) (b byte, n int, err error) {
	if i >= len(s) {
		return 0, 0, fmt.Errorf("backslash at the end of %q", s)
	}
	c := s[i]
	switch {
	case c == 'x' && i+1 < len(s) && isHex(s[i+1]):
		j := i + 1
		for j < len(s) && isHex(s[j]) {
			b = b<<4 | hexVal(s[j])
			j++
		}
		return b, j - i, nil
	case c == 'c' && i+1 < len(s):
		return s[i+1] & 0x1f, 2, nil
	case c >= '0' && c <= '7':
		j := i
		for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
			b = b<<3 | (s[j] - '0')
			j++
		}
		return b, j - i, nil
	}
	if e := strings.IndexByte("abEfnrtv", c); e >= 0 {
		return "\a\b\x1b\f\n\r\t\v"[e], 1, nil
	}
	return c, 1, nil
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// validUserName reports whether s looks like a user or group name
// (useradd's default NAME_REGEX, upper case allowed):
// [A-Za-z_][A-Za-z0-9_.-]*$?
func validUserName(s string) bool {
	s = strings.TrimSuffix(s, "$")
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// parseCommand reads the command of a notify or script directive: its
// second word re-read into arguments, then, when user is true, an optional
// user and group.
func parseCommand(n *Node, user bool) (*Command, []string, error) {
	words, err := splitQuoted(n.Raw)
	if err != nil {
		return nil, nil, err
	}
	if len(words) < 2 || strings.TrimLeft(words[1], whiteSpace) == "" {
		return nil, nil, errors.New("no command given")
	}
	args, err := splitQuoted(words[1])
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return nil, nil, errors.New("no command given")
	}
	cmd := &Command{Args: args}
	rest := words[2:]
	if !user {
		return cmd, rest, nil
	}
	quoteHint := fmt.Sprintf("quote the command to give it arguments: %s %q", n.Keyword, strings.Join(words[1:], " "))
	if len(rest) > 2 {
		return nil, nil, fmt.Errorf("too many words: after the command only a user and a group may follow; %s", quoteHint)
	}
	for _, name := range rest {
		if !validUserName(name) {
			return nil, nil, fmt.Errorf("%q is taken as the user or group to run the command as, and is no valid name; %s", name, quoteHint)
		}
	}
	if len(rest) > 0 {
		cmd.User = rest[0]
	}
	if len(rest) > 1 {
		cmd.Group = rest[1]
	}
	return cmd, nil, nil
}
