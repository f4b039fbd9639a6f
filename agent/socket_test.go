package agent

import (
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestAPISocketModes(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skipf("no name for gid %d: %v", os.Getgid(), err)
	}
	for _, tc := range []struct {
		group string
		mode  os.FileMode
	}{{"", 0o600}, {g.Name, 0o660}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "api.sock")
		ln, err := openAPISocket(path, tc.group, log)
		if err != nil {
			t.Fatalf("group %q: %v", tc.group, err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != tc.mode || st.Mode().Type() != os.ModeSocket {
			t.Errorf("group %q: %v %v, want a socket of mode %v", tc.group, st.Mode(), err, tc.mode)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Errorf("group %q: dial: %v", tc.group, err)
		} else {
			c.Close()
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("group %q: left %d files in the dir, want only the socket", tc.group, len(entries))
		}
		// A second agent on the same path is refused.
		if _, err := openAPISocket(path, tc.group, log); err == nil || !strings.Contains(err.Error(), "another agent") {
			t.Errorf("second listener: %v", err)
		}
		ln.Close()
	}
	if _, err := openAPISocket(filepath.Join(t.TempDir(), "s"), "no-such-group-paceline", log); err == nil || !strings.Contains(err.Error(), "api-socket-group") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestAPISocketRefusesUnsafePlaces(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	mk := func(mode os.FileMode) string {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := mk(0o777)
	if _, err := openAPISocket(filepath.Join(dir, "api.sock"), "", log); err == nil || !strings.Contains(err.Error(), "world-writable (0777) without the sticky bit") {
		t.Errorf("world-writable dir: %v", err)
	}
	dir = mk(0o777 | os.ModeSticky)
	ln, err := openAPISocket(filepath.Join(dir, "api.sock"), "", log)
	if err != nil {
		t.Errorf("sticky world-writable dir (like /tmp): %v", err)
	} else {
		ln.Close()
	}
	dir = mk(0o755)
	file := filepath.Join(dir, "api.sock")
	if err := os.WriteFile(file, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openAPISocket(file, "", log); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("a regular file at the path: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "not a socket" {
		t.Error("the file was replaced")
	}
	if os.Geteuid() != 0 {
		t.Log("not root: the foreign-owner case is checked through checkSocketDir only")
		if err := checkSocketDir(mk(0o755), os.Geteuid()+1, log); err == nil || !strings.Contains(err.Error(), "is owned by uid") {
			t.Errorf("dir of another user: %v", err)
		}
		return
	}
	dir = mk(0o755)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := openAPISocket(filepath.Join(dir, "api.sock"), "", log); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534") {
		t.Errorf("dir of another user: %v", err)
	}
}
