package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// This file is the agent's Redis client: RESP2 over one net.Conn, one
// command at a time. The agent sends a dozen kinds of commands (AUTH,
// PING, INFO, REPLICAOF, CLIENT PAUSE/UNPAUSE, SET, GET, DEL), each with
// a deadline, and reads bulk strings, integers, simple strings and
// errors; see doc.go for why this is not go-redis.

// replyError is an error reply from the server ("-READONLY ...").
type replyError struct{ msg string }

func (e *replyError) Error() string { return "redis: " + e.msg }

// code is the error's first word: READONLY, LOADING, NOAUTH, WRONGPASS...
func (e *replyError) code() string {
	c, _, _ := strings.Cut(e.msg, " ")
	return c
}

// isReplyError reports whether err is an error reply with that code.
func isReplyError(err error, code string) bool {
	e, ok := errors.AsType[*replyError](err)
	return ok && e.code() == code
}

// client is one connection to a Redis server.
type client struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	// timeout bounds each command unless the context ends sooner.
	timeout time.Duration
}

// maxReply bounds one bulk string or array the agent reads (INFO is a
// few KiB; the probe value a few bytes).
const maxReply = 4 << 20

// dial connects to addr (host:port) and authenticates with password
// (as user when set) unless password is empty.
func dial(ctx context.Context, addr, user, password string, timeout time.Duration) (*client, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &client{addr: addr, conn: conn, r: bufio.NewReader(conn), timeout: timeout}
	if password != "" {
		args := []string{"AUTH", password}
		if user != "" {
			args = []string{"AUTH", user, password}
		}
		if _, err := c.do(ctx, args...); err != nil {
			c.Close()
			// The reply never holds the password; the command is not shown.
			return nil, fmt.Errorf("AUTH: %w", err)
		}
	}
	return c, nil
}

// Close closes the connection.
func (c *client) Close() error { return c.conn.Close() }

// do sends one command and reads its reply: a string (simple or bulk;
// "" for nil), an int64, or []any for an array. An error reply is a
// *replyError.
func (c *client) do(ctx context.Context, args ...string) (any, error) {
	dl := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	if err := c.conn.SetDeadline(dl); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	if _, err := c.conn.Write(b); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.addr, args[0], err)
	}
	v, err := c.read(0)
	if err != nil {
		if _, ok := errors.AsType[*replyError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %s: %w", c.addr, args[0], err)
	}
	return v, nil
}

// str is do for a command whose reply is a string.
func (c *client) str(ctx context.Context, args ...string) (string, error) {
	v, err := c.do(ctx, args...)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	}
	return "", fmt.Errorf("%s: %s: unexpected reply %T", c.addr, args[0], v)
}

func (c *client) line() (string, error) {
	s, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(s) < 3 || s[len(s)-2] != '\r' {
		return "", errors.New("malformed reply line")
	}
	return s[:len(s)-2], nil
}

func (c *client) read(depth int) (any, error) {
	if depth > 4 {
		return nil, errors.New("reply nested too deep")
	}
	s, err := c.line()
	if err != nil {
		return nil, err
	}
	kind, rest := s[0], s[1:]
	switch kind {
	case '+':
		return rest, nil
	case '-':
		return nil, &replyError{msg: rest}
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed integer reply %q", rest)
		}
		return n, nil
	case '$':
		n, err := strconv.Atoi(rest)
		if err != nil || n < -1 || n > maxReply {
			return nil, fmt.Errorf("malformed bulk length %q", rest)
		}
		if n == -1 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(rest)
		if err != nil || n < -1 || n > 1024 {
			return nil, fmt.Errorf("malformed array length %q", rest)
		}
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := c.read(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply type %q", kind)
}

// parseInfo reads an INFO reply: "key:value" lines; sections and
// comments are dropped.
func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}
