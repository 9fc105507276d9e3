package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStatus reads fields given in kB (VmRSS, VmHWM, ...) from
// /proc/<pid>/status, in bytes. A field the file does not have is absent
// from the map.
func ProcStatus(pid int, fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if name != f {
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse %s %q: %w", name, rest, err)
			}
			out[name] = kb << 10
		}
	}
	return out, sc.Err()
}
