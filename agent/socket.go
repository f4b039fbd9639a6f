package agent

// The API socket: whoever can connect to it can change the cluster, so it
// is created with its final mode before anyone can reach it (bound under a
// temporary name, its mode and group set, then renamed into place), and
// only in a directory no other user can tamper with (docs/hardening.md).

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// openAPISocket creates the directory if need be (0755), checks it, and
// listens on path with mode 0600, or 0660 and the given group.
func openAPISocket(path, group string, log *slog.Logger) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("api socket dir: %w", err)
	}
	if err := checkSocketDir(dir, os.Geteuid(), log); err != nil {
		return nil, err
	}
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("api socket %s: another agent is listening there", path)
	}
	if st, err := os.Lstat(path); err == nil && st.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("api socket %s: it exists and is not a socket (%s): remove it by hand if it is stale", path, st.Mode().Type())
	}
	mode := os.FileMode(0o600)
	gid := -1
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("api-socket-group: %w", err)
		}
		gid, _ = strconv.Atoi(g.Gid)
		mode = 0o660
	}
	// The temporary name is no longer than path (a unix socket path has
	// at most 107 bytes); where it would be, path is bound directly.
	tmp := filepath.Join(dir, ".pl"+strconv.FormatInt(int64(os.Getpid()), 36))
	if len(tmp) > len(path) {
		tmp = path
	}
	_ = os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("api socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // the agent removes the final name on stop
	fail := func(err error) (net.Listener, error) {
		_ = ln.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	if gid >= 0 {
		if err := os.Chown(tmp, -1, gid); err != nil {
			return fail(fmt.Errorf("api socket group %s: %w", group, err))
		}
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(fmt.Errorf("api socket mode: %w", err))
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			return fail(fmt.Errorf("api socket: %w", err))
		}
	}
	return ln, nil
}

// checkSocketDir refuses a socket directory another user could swap the
// socket in: one owned by someone other than euid or root, or one that is
// world-writable without the sticky bit. A group-writable one without the
// sticky bit is only warned about.
func checkSocketDir(dir string, euid int, log *slog.Logger) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("api socket dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("api socket dir %s: not a directory", dir)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("api socket dir " + dir + ": cannot read its owner")
	}
	perm, sticky := st.Mode().Perm(), st.Mode()&os.ModeSticky != 0
	switch {
	case int(sys.Uid) != euid && sys.Uid != 0:
		return fmt.Errorf("api socket dir %s is owned by uid %d, not by this agent's uid %d or root: another user could replace the socket; use a directory of the agent's own (e.g. /run/paceline)", dir, sys.Uid, euid)
	case perm&0o002 != 0 && !sticky:
		return fmt.Errorf("api socket dir %s is world-writable (%04o) without the sticky bit: any user could replace the socket; chmod o-w or +t it, or use another directory", dir, perm)
	case perm&0o020 != 0 && !sticky && log != nil:
		log.Warn("api socket dir is group-writable without the sticky bit: members of its group could replace the socket", "dir", dir, "mode", fmt.Sprintf("%04o", perm), "gid", sys.Gid)
	}
	return nil
}
