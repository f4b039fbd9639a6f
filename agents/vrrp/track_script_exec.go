package vrrp

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
	"github.com/paceline/paceline/proc"
)

// This file is how keepalived runs a script (lib/notify.c): as whom
// (get_default_script_user, set_uid_gid), after which checks
// (check_script_secure, check_security, is_executable), and the command
// that proc.Run executes: the program and its arguments as configured,
// never through a shell.

// defaultScriptUser is the user keepalived runs scripts as when neither
// the script nor script_user names one, if it exists (lib/notify.c:
// get_default_script_user).
const defaultScriptUser = "keepalived_script"

// scriptUser is whom a script runs as.
type scriptUser struct {
	name     string // "root", "nobody:nogroup", for messages
	uid, gid uint32
}

// scriptCmd is a keepalived script ready to run.
type scriptCmd struct {
	// what names it in errors and logs: "vrrp_script chk_nginx",
	// "vrrp_instance VI_1 notify_master".
	what string
	// path is the program: the configured one, made absolute (a bare name
	// is searched in PATH, as keepalived's find_path does).
	path string
	args []string
	user scriptUser
	// setpriv is setpriv(1) when the user is not this process's: proc.Run
	// executes it, and it sets the user, group and supplementary groups
	// (the group alone, as keepalived's set_script_env) before it execs
	// the program.
	setpriv string
}

// cmd is what proc.Run executes: the script with extra arguments after
// its own.
func (c *scriptCmd) cmd(grace time.Duration, extra ...string) proc.Cmd {
	args := slices.Concat(c.args, extra)
	if c.setpriv == "" {
		return proc.Cmd{Path: c.path, Args: args, Grace: grace}
	}
	id := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	pre := []string{"--reuid=" + id(c.user.uid), "--regid=" + id(c.user.gid), "--groups=" + id(c.user.gid), "--", c.path}
	return proc.Cmd{Path: c.setpriv, Args: append(pre, args...), Grace: grace}
}

// outcome says how a run of the script went, in keepalived's words
// (vrrp_scheduler.c: vrrp_script_child_thread): ok, or why not. done is
// false when the run was cancelled (shutting down): it says nothing about
// the script.
func (c *scriptCmd) outcome(res proc.Result, timeout time.Duration) (ok bool, why string, done bool) {
	switch res.Status {
	case proc.Done:
		if res.Code == 0 {
			return true, "succeeded", true
		}
		return false, fmt.Sprintf("exited with status %d", res.Code) + lastLine(res.Output), true
	case proc.Timeout:
		return false, fmt.Sprintf("timed out after %v; killed with its process group", timeout), true
	case proc.Cancelled:
		return false, "cancelled", false
	}
	if c.setpriv != "" { // killed by a signal: the program's, setpriv exec'd it
		return false, strings.Replace(res.Reason, c.setpriv+":", c.path+":", 1), true
	}
	return false, res.Reason, true
}

// lastLine is ": " and the output's last non-empty line, quoted and cut
// to 120 bytes ("" without output), for a fault's reason.
func lastLine(out string) string {
	out = strings.TrimRight(out, " \t\r\n")
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	if len(out) > 120 {
		out = out[:120] + "..."
	}
	return ": " + strconv.Quote(out)
}

// scriptResolver turns the configuration's commands into scriptCmds: it
// settles the user, finds the program and checks it as keepalived does
// before it runs anything.
type scriptResolver struct {
	g   kaconf.Globals
	log *slog.Logger
	// uid and gid are this process's.
	uid, gid uint32
	// The lookups (os/user and exec.LookPath; tests replace them).
	lookupUser  func(name string) (*user.User, error)
	lookupGroup func(name string) (*user.Group, error)
	lookPath    func(file string) (string, error)

	// def is the default user once settled; defErr why there is none.
	def     *scriptUser
	defErr  error
	setpriv string
	// scripts and insecure count what was resolved, for keepalived's
	// SECURITY VIOLATION warning.
	scripts, insecure int
}

func newScriptResolver(g kaconf.Globals, log *slog.Logger) *scriptResolver {
	return &scriptResolver{
		g: g, log: log, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		lookupUser: user.Lookup, lookupGroup: user.LookupGroup, lookPath: exec.LookPath,
	}
}

// resolve prepares a command to run, or says why keepalived would not run
// it. what names it ("vrrp_script chk").
func (r *scriptResolver) resolve(what string, c *kaconf.Command) (*scriptCmd, error) {
	if len(c.Args) == 0 || c.Args[0] == "" {
		return nil, fmt.Errorf("%s: no program given", what)
	}
	u, err := r.userOf(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sc := &scriptCmd{what: what, args: slices.Clone(c.Args[1:]), user: u}
	if sc.path, err = r.program(c.Args[0], u); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := r.check(sc); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if u.uid != r.uid || u.gid != r.gid {
		if r.uid != 0 {
			return nil, fmt.Errorf("%s: cannot run as %s: this process runs as uid %d, not root", what, u.name, r.uid)
		}
		if r.setpriv == "" {
			p, err := r.lookPath("setpriv")
			if err != nil {
				return nil, fmt.Errorf("%s: running it as %s needs setpriv (util-linux): %w", what, u.name, err)
			}
			r.setpriv = p
		}
		sc.setpriv = r.setpriv
	}
	r.scripts++
	return sc, nil
}

// warnInsecure logs keepalived's warning when scripts run without
// enable_script_security (vrrp.c: check_vrrp_script_security).
func (r *scriptResolver) warnInsecure() {
	if r.g.EnableScriptSecurity || r.scripts == 0 {
		return
	}
	msg := "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
	if r.insecure > 0 {
		msg += " There are insecure scripts."
	}
	r.log.Warn(msg)
}

// userOf is the command's user, else script_user, else keepalived_script
// if it exists, else this process's user; with enable_script_security
// and neither script_user nor keepalived_script, keepalived runs no
// script that names no user (lib/notify.c: get_default_script_user).
func (r *scriptResolver) userOf(c *kaconf.Command) (scriptUser, error) {
	if c.User != "" {
		return r.lookup(c.User, c.Group)
	}
	if r.def == nil && r.defErr == nil {
		r.settleDefault()
	}
	if r.defErr != nil {
		return scriptUser{}, r.defErr
	}
	return *r.def, nil
}

func (r *scriptResolver) settleDefault() {
	if r.g.ScriptUser != "" {
		u, err := r.lookup(r.g.ScriptUser, r.g.ScriptGroup)
		if err != nil {
			r.defErr = fmt.Errorf("script_user: %w", err)
			return
		}
		r.def = &u
		return
	}
	u, err := r.lookup(defaultScriptUser, "")
	var unknown user.UnknownUserError
	switch {
	case err == nil:
		r.def = &u
	case !errors.As(err, &unknown):
		r.defErr = fmt.Errorf("default script user %s: %w", defaultScriptUser, err)
	case r.g.EnableScriptSecurity:
		r.defErr = fmt.Errorf("no user to run it as: enable_script_security is set, script_user is not and user %s does not exist, "+
			"and keepalived then runs no script that names no user; set script_user in global_defs (script_user root to run scripts as root)", defaultScriptUser)
	default:
		name := strconv.FormatUint(uint64(r.uid), 10)
		if pw, err := user.LookupId(name); err == nil {
			name = pw.Username
		}
		r.def = &scriptUser{name: name, uid: r.uid, gid: r.gid}
	}
}

// lookup finds a user and its group (the user's own unless named).
func (r *scriptResolver) lookup(name, group string) (scriptUser, error) {
	pw, err := r.lookupUser(name)
	if err != nil {
		return scriptUser{}, fmt.Errorf("user %s: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(pw.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(pw.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return scriptUser{}, fmt.Errorf("user %s: %w", name, err)
	}
	u := scriptUser{name: name, uid: uint32(uid), gid: uint32(gid)}
	if group != "" {
		gr, err := r.lookupGroup(group)
		if err != nil {
			return scriptUser{}, fmt.Errorf("group %s: %w", group, err)
		}
		gid, err := strconv.ParseUint(gr.Gid, 10, 32)
		if err != nil {
			return scriptUser{}, fmt.Errorf("group %s: %w", group, err)
		}
		u.gid, u.name = uint32(gid), name+":"+group
	}
	return u, nil
}

// program makes the program's path absolute: a bare name is searched in
// PATH for a file u may execute, with keepalived's warning.
func (r *scriptResolver) program(name string, u scriptUser) (string, error) {
	if strings.Contains(name, "/") {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return p, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := statT(p, os.Stat)
		if err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || !executableBy(st, u) {
			continue
		}
		r.log.Warn("script `"+name+"` resolved by path search to `"+p+"`. Please specify full path.", "script", name)
		return p, nil
	}
	return "", fmt.Errorf("%s: not found in PATH (%s) as a file %s may execute", name, os.Getenv("PATH"), u.name)
}

// check refuses what keepalived's check_script_secure disables: a program
// that does not exist or that its user may not execute, and, when it runs
// as root (or is set-user-ID or set-group-ID root), a path to it that
// someone else could change, if enable_script_security is set (otherwise
// that is a warning).
func (r *scriptResolver) check(sc *scriptCmd) error {
	st, err := statT(sc.path, os.Stat)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", sc.path)
	case err != nil:
		return err
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return fmt.Errorf("%s is not a regular file", sc.path)
	case !executableBy(st, sc.user):
		return fmt.Errorf("%s is not executable by %s (uid %d, gid %d)", sc.path, sc.user.name, sc.user.uid, sc.user.gid)
	}
	protect := sc.user.uid == 0 || sc.user.gid == 0 ||
		(st.Uid == 0 && st.Mode&syscall.S_IXUSR != 0 && st.Mode&syscall.S_ISUID != 0) ||
		(st.Gid == 0 && st.Mode&syscall.S_IXGRP != 0 && st.Mode&syscall.S_ISGID != 0)
	if !protect {
		return nil
	}
	for _, p := range securityPaths(sc.path) {
		unsafe, err := unsafePath(p)
		if err != nil {
			return err
		}
		if unsafe == "" {
			continue
		}
		r.insecure++
		if r.g.EnableScriptSecurity {
			return fmt.Errorf("enable_script_security: refusing to run %s as %s: %s; make every part of its path owned by root and writable by root only (or a directory with the sticky bit)", sc.path, sc.user.name, unsafe)
		}
		r.log.Warn("Unsafe permissions found for script '"+sc.path+"'", "script", sc.what, "why", unsafe)
		return nil
	}
	return nil
}

// securityPaths are the paths whose every part check_script_secure checks:
// the program's resolved directory with its configured name (a symbolic
// link there, such as /usr/bin/sh, stays one), and the file it resolves
// to when that differs.
func securityPaths(path string) []string {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return []string{path}
	}
	named := filepath.Join(filepath.Dir(real), filepath.Base(path))
	if named == real {
		return []string{real}
	}
	a, errA := os.Stat(named)
	b, errB := os.Stat(real)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		return []string{real}
	}
	return []string{named, real}
}

// unsafePath walks path from / as keepalived's check_security does, not
// following symbolic links: every part but the last must be a directory,
// the last a file or a symbolic link, each owned by root, and no file and
// no directory without the sticky bit writable by a group other than root
// or by others. It returns what is wrong ("" : nothing); a wrong file type
// is an error, which keepalived refuses whatever the settings.
func unsafePath(path string) (string, error) {
	parts := strings.Split(strings.TrimPrefix(filepath.Clean(path), "/"), "/")
	cur := "/"
	for i := -1; i < len(parts); i++ {
		if i >= 0 {
			cur = filepath.Join(cur, parts[i])
		}
		st, err := statT(cur, os.Lstat)
		if err != nil {
			return "", err
		}
		last := i == len(parts)-1
		typ := st.Mode & syscall.S_IFMT
		isDir, isReg := typ == syscall.S_IFDIR, typ == syscall.S_IFREG
		if (!last && !isDir) || (last && !isReg && typ != syscall.S_IFLNK) {
			return "", fmt.Errorf("wrong file type in the script's path: %s", cur)
		}
		perm := fmt.Sprintf("%04o", st.Mode&0o7777)
		switch {
		case st.Uid != 0:
			return fmt.Sprintf("%s is owned by uid %d, not root", cur, st.Uid), nil
		case !(isReg || (isDir && st.Mode&syscall.S_ISVTX == 0)):
		case st.Gid != 0 && st.Mode&syscall.S_IWGRP != 0:
			return fmt.Sprintf("%s is writable by group %s (mode %s)", cur, groupName(st.Gid), perm), nil
		case st.Mode&syscall.S_IWOTH != 0:
			return fmt.Sprintf("%s is writable by anyone (mode %s)", cur, perm), nil
		}
	}
	return "", nil
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// at is "file:line: " for an error about what is at p ("" when p is not
// known: a configuration not read from a file).
func at(p kaconf.Pos) string {
	if p.File == "" {
		return ""
	}
	return p.String() + ": "
}

// statT stats a path with os.Stat or os.Lstat, for its raw mode, owner
// and group.
func statT(path string, stat func(string) (fs.FileInfo, error)) (*syscall.Stat_t, error) {
	fi, err := stat(path)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("%s: no owner information", path)
	}
	return st, nil
}

// executableBy is keepalived's is_executable: root may execute a file
// with any execute bit; others by the bits of their class.
func executableBy(st *syscall.Stat_t, u scriptUser) bool {
	m := st.Mode
	return (u.uid == 0 && m&0o111 != 0) ||
		(u.uid == st.Uid && m&syscall.S_IXUSR != 0) ||
		(u.uid != st.Uid && ((u.gid == st.Gid && m&syscall.S_IXGRP != 0) ||
			(u.gid != st.Gid && m&syscall.S_IXOTH != 0)))
}
