package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ClockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const ClockTicks = 100

// ProcTimes are process pid's CPU seconds (user + system) and start
// time in Unix seconds, from /proc/PID/stat; pid may be "self".
func ProcTimes(pid string) (cpu, started float64, err error) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces
	// and parentheses: the fields start after the last ')'.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:])) // f[0] is field 3, state
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: %d fields after the command name", pid, len(f))
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)      // field 14
	stime, err2 := strconv.ParseFloat(f[12], 64)      // field 15
	startTicks, err3 := strconv.ParseFloat(f[19], 64) // field 22, since boot
	boot, err4 := bootTime()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return 0, 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return (utime + stime) / ClockTicks, boot + startTicks/ClockTicks, nil
}

// bootTime is the machine's boot time in Unix seconds (btime of
// /proc/stat), read once: a start time computed from it must not move
// unless the process restarted.
var bootTime = sync.OnceValues(func() (float64, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("no btime in /proc/stat")
})
