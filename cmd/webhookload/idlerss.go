package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
)

// idleRSS starts the payoutd binary at o.idleRSS twice, idle: on the
// embedded SQLite default from an empty temporary directory, and on a fresh
// PostgreSQL database; waits until /healthz answers, then o.idleWait, and
// reads VmRSS (and the peak, VmHWM) from /proc/<pid>/status.
func idleRSS(ctx context.Context, o options, w io.Writer, progress func(string, ...any)) (err error) {
	bin, err := filepath.Abs(o.idleRSS)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return bench.Usagef("-idle-rss: %v (build it first: go build -o %s .)", err, o.idleRSS)
	}
	type row struct {
		name     string
		rss, hwm int64
	}
	var rows []row

	progress("idle RSS: %s serve on embedded SQLite, idling %s", bin, o.idleWait)
	rss, hwm, err := idleOnce(ctx, bin, o, "")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	rows = append(rows, row{"embedded SQLite (data/payoutd.db)", rss, hwm})

	db, err := benchdb.Create(ctx, o.databaseURL, "webhookload_idle")
	if err != nil {
		return err
	}
	defer db.DropJoin(&err)
	progress("idle RSS: %s serve on PostgreSQL database %s, idling %s", bin, db.Name, o.idleWait)
	rss, hwm, err = idleOnce(ctx, bin, o, db.URL)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	rows = append(rows, row{"PostgreSQL (" + db.Name + ")", rss, hwm})

	fmt.Fprintf(w, "\nidle RSS of %s serve after %s idle (target < %d MB)\n", bin, o.idleWait, targetRSS>>20)
	for _, r := range rows {
		fmt.Fprintf(w, "  %-45s VmRSS %6.1f MB  (peak VmHWM %6.1f MB)  %s\n", r.name,
			float64(r.rss)/(1<<20), float64(r.hwm)/(1<<20), verdict(r.rss < targetRSS))
	}
	return nil
}

// idleOnce runs one idle payoutd and returns its VmRSS and VmHWM in bytes.
// dbURL empty means the embedded SQLite default.
func idleOnce(ctx context.Context, bin string, o options, dbURL string) (rss, hwm int64, err error) {
	dir, err := os.MkdirTemp("", "webhookload-idle-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)

	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // empty: no config.yaml, so every default applies
	cmd.Env = append(withoutPayoutdEnv(os.Environ()), "PAYOUTD_LISTEN="+o.idleListen, "PAYOUTD_LOG_FORMAT=json")
	if dbURL != "" {
		cmd.Env = append(cmd.Env, "PAYOUTD_DATABASE_URL="+dbURL)
	}
	logPath := filepath.Join(dir, "payoutd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return 0, 0, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start payoutd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(25 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	if err := waitHealthy(ctx, "http://"+o.idleListen+"/healthz", exited); err != nil {
		out, _ := os.ReadFile(logPath)
		return 0, 0, fmt.Errorf("%w; payoutd said: %s", err, strings.TrimSpace(string(out)))
	}
	select {
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case err := <-exited:
		exited <- err
		return 0, 0, fmt.Errorf("payoutd exited while idle: %v", err)
	case <-time.After(o.idleWait):
	}
	return procMemory(cmd.Process.Pid)
}

// withoutPayoutdEnv drops PAYOUTD_* settings of the caller's environment
// so that only the ones set here apply.
func withoutPayoutdEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PAYOUTD_") {
			out = append(out, kv)
		}
	}
	return out
}

func waitHealthy(ctx context.Context, url string, exited chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			exited <- err
			return fmt.Errorf("payoutd exited at start: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("payoutd did not answer /healthz within 30s")
}

// procMemory reads a process's VmRSS and VmHWM in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	st, err := bench.ProcStatus(pid, "VmRSS", "VmHWM")
	if err != nil {
		return 0, 0, err
	}
	if st["VmRSS"] == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return st["VmRSS"], st["VmHWM"], nil
}
