package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MemoryFigures are the proportional set size (PSS: private pages plus each shared page
// divided by the processes sharing it, so shared memory counts once) of the stack's processes.
type MemoryFigures struct {
	// PSSMB is the sum over Processes, in MB (10^6 bytes).
	PSSMB     float64      `json:"pss_mb"`
	Processes []ProcessPSS `json:"processes"`
}

// ProcessPSS is one process's PSS.
type ProcessPSS struct {
	PID   int     `json:"pid"`
	Name  string  `json:"name"`
	PSSMB float64 `json:"pss_mb"`
}

// pssOf reads the Pss line of /proc/<pid>/smaps_rollup, in kB.
func pssOf(proc string, pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "Pss:" {
			return strconv.ParseInt(fields[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no Pss in /proc/%d/smaps_rollup", pid)
}

// statOf reads a process's name and parent from /proc/<pid>/stat.
func statOf(proc string, pid int) (name string, ppid int, err error) {
	name, fields, err := readStat(proc, pid)
	if err != nil {
		return "", 0, err
	}
	ppid, err = strconv.Atoi(fields[1])
	return name, ppid, err
}

// readStat reads /proc/<pid>/stat: the process's name (comm) and the fields after it, from
// the state (field 3 of proc(5)) on.
func readStat(proc string, pid int) (name string, fields []string, err error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", nil, err
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields = strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return "", nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return s[open+1 : end], fields, nil
}

// treeOf returns root and all its descendants, root first.
func treeOf(proc string, root int) []int {
	entries, _ := os.ReadDir(proc)
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, err := statOf(proc, pid); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		kids := children[tree[i]]
		slices.Sort(kids)
		tree = append(tree, kids...)
	}
	return tree
}

// measureMemory sums the PSS of the process trees rooted at pids (a process and its children,
// such as the private PostgreSQL and its backends).
func measureMemory(proc string, pids ...int) (MemoryFigures, error) {
	var m MemoryFigures
	var total int64
	for _, root := range pids {
		for _, pid := range treeOf(proc, root) {
			kb, err := pssOf(proc, pid)
			if err != nil {
				if pid == root {
					return m, fmt.Errorf("read memory of process %d: %w", pid, err)
				}
				continue // a backend that just exited
			}
			name, _, _ := statOf(proc, pid)
			total += kb
			m.Processes = append(m.Processes, ProcessPSS{PID: pid, Name: name, PSSMB: round(float64(kb)*1024/1e6, 1)})
		}
	}
	m.PSSMB = round(float64(total)*1024/1e6, 1)
	return m, nil
}
