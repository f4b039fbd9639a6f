package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Stat is what an agent needs of /proc/PID/stat to tell its own process
// from another that now has the same PID.
type Stat struct {
	Comm  string
	State byte // R, S, D, Z, T, ...
	Ppid  int
	Pgrp  int
	Start uint64 // start time after boot, in clock ticks
}

// Gone says whether the process is a zombie or dead.
func (s Stat) Gone() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat reads /proc/PID/stat; fs.ErrNotExist when there is no such
// process.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, err
	}
	bad := fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	// pid (comm) state ppid pgrp ...; comm may hold spaces and ')'.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return Stat{}, bad
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 of proc(5): state, ppid, pgrp, ..., starttime (22).
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, bad
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Stat{}, bad
	}
	return Stat{Comm: s[open+1 : end], State: f[0][0], Ppid: ppid, Pgrp: pgrp, Start: start}, nil
}
