package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/bench"
)

const benchAPIKey = "kycbench-api-key"

// start is when the withdrawers registered, on both clocks; the sweep runs
// sweepAfter later.
var start = time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)

const sweepAfter = 2 * time.Hour

// knownID is the i-th withdrawer both sides know; unknownID the j-th of
// those only payoutd knows, placed among them in user_id order.
func knownID(i int) string { return fmt.Sprintf("kb-%07d", i) }

func unknownID(o options, j int) string {
	return knownID(j*max(o.n/max(o.unknown, 1), 1)) + "-gone"
}

// approved reports whether the i-th known withdrawer is approved at
// Coinflow before the sweep: o.approve of them, spread evenly.
func approved(o options, i int) bool {
	return int(float64(i+1)*o.approve) > int(float64(i)*o.approve)
}

func approvedCount(o options) int {
	n := 0
	for i := range o.n {
		if approved(o, i) {
			n++
		}
	}
	return n
}

// coinflowSide is the emulator, in this process or another.
type coinflowSide interface {
	URL() string
	Advance(ctx context.Context, d time.Duration) error
	Stats(ctx context.Context) (coinflowtest.RateLimitStats, error)
	// RSS is the emulator process's VmRSS, or 0 when it is this process.
	RSS() int64
	Close() error
}

// specs yields the known withdrawers, pending, in Germany.
func specs(o options) iter.Seq[coinflowtest.WithdrawerSpec] {
	return func(yield func(coinflowtest.WithdrawerSpec) bool) {
		for i := range o.n {
			if !yield(coinflowtest.WithdrawerSpec{UserID: knownID(i), Country: "DE", Verification: coinflowtest.VerificationPending}) {
				return
			}
		}
	}
}

// newEmulator starts an emulator with rate limits enforced and no webhook
// delivery, registers the known withdrawers and approves o.approve of them.
func newEmulator(o options) (*coinflowtest.Server, error) {
	srv := coinflowtest.NewServer(coinflowtest.Options{
		APIKey: benchAPIKey, Start: start, EnforceRateLimits: true, WebhookURL: "", InitialBalanceCents: 1_000_000_00,
	})
	added, err := srv.AddWithdrawers(specs(o))
	if err == nil && added != o.n {
		err = fmt.Errorf("added %d withdrawers, want %d", added, o.n)
	}
	for i := range o.n {
		if err != nil {
			break
		}
		if approved(o, i) {
			err = srv.CompleteVerification(knownID(i), true)
		}
	}
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	return srv, nil
}

// inProcess is the emulator in this process.
type inProcess struct{ srv *coinflowtest.Server }

func (e inProcess) URL() string { return e.srv.URL }
func (e inProcess) Advance(_ context.Context, d time.Duration) error {
	e.srv.Advance(d)
	return nil
}

func (e inProcess) Stats(context.Context) (coinflowtest.RateLimitStats, error) {
	return e.srv.RateLimitStats(), nil
}
func (e inProcess) RSS() int64   { return 0 }
func (e inProcess) Close() error { e.srv.Close(); return nil }

// childEnv marks a process this command started, so that a test binary
// re-executed as the command runs the command, not the tests.
const childEnv = "KYCBENCH_CHILD"

// selfCommand is this program run again with args.
func selfCommand(ctx context.Context, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// serveEmulator is the child of -emulator process: it sets the emulator
// up, says "ready URL SECONDS" on out, and serves until in closes.
func serveEmulator(ctx context.Context, o options, in io.Reader, out io.Writer) error {
	began := time.Now()
	srv, err := newEmulator(o)
	if err != nil {
		return err
	}
	defer srv.Close()
	if _, err := fmt.Fprintf(out, "ready %s %.3f\n", srv.URL, time.Since(began).Seconds()); err != nil {
		return err
	}
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, in)
		close(closed)
	}()
	select {
	case <-ctx.Done():
	case <-closed:
	}
	return nil
}

// childProcess is the emulator in a child process, driven over /_sim/.
type childProcess struct {
	cmd   *exec.Cmd
	stdin io.Closer
	url   string
	http  *http.Client
	once  sync.Once
	err   error
}

// startChild starts the emulator child and waits until it is ready; it
// returns the child's setup time.
func startChild(ctx context.Context, o options, stderr io.Writer) (*childProcess, time.Duration, error) {
	cmd, err := selfCommand(context.WithoutCancel(ctx), "-serve-emulator", "-n", strconv.Itoa(o.n),
		"-approve", strconv.FormatFloat(o.approve, 'g', -1, 64))
	if err != nil {
		return nil, 0, err
	}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start emulator process: %w", err)
	}
	c := &childProcess{cmd: cmd, stdin: stdin, http: &http.Client{Timeout: 30 * time.Second}}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "ready" {
		return nil, 0, errors.Join(fmt.Errorf("emulator process said %q: %v", line, err), c.Close())
	}
	secs, _ := strconv.ParseFloat(f[2], 64)
	c.url = f[1]
	return c, time.Duration(secs * float64(time.Second)), nil
}

func (c *childProcess) URL() string { return c.url }

func (c *childProcess) sim(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", benchAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("emulator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *childProcess) Advance(ctx context.Context, d time.Duration) error {
	return c.sim(ctx, http.MethodPost, "/_sim/advance", map[string]string{"duration": d.String()}, nil)
}

func (c *childProcess) Stats(ctx context.Context) (coinflowtest.RateLimitStats, error) {
	var st struct {
		RateLimits coinflowtest.RateLimitStats `json:"rateLimits"`
	}
	err := c.sim(ctx, http.MethodGet, "/_sim/state", nil, &st)
	return st.RateLimits, err
}

func (c *childProcess) RSS() int64 {
	st, err := bench.ProcStatus(c.cmd.Process.Pid, "VmRSS")
	if err != nil {
		return 0
	}
	return st["VmRSS"]
}

func (c *childProcess) Close() error {
	c.once.Do(func() {
		_ = c.stdin.Close()
		c.err = c.cmd.Wait()
	})
	return c.err
}
