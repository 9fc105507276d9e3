package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// phase is one payoutd phase, each on a fresh payoutd and database so that
// one phase's backlog does not weigh on the next.
type phase struct {
	name         string
	window       time.Duration
	rate         float64       // an open loop offering this many sends per second; 0: a closed loop of o.concurrency senders
	cpuProfile   string        // a CPU profile of the window, or none
	drain        time.Duration // afterwards, wait up to this long for the applier to work off the backlog
	drainProfile string        // a CPU profile of that wait, or none
}

// payoutdResult is a payoutd phase: the load's view, and what the
// in-process server's counters and inbox say about the same window.
type payoutdResult struct {
	*result
	inProcess bool
	dials     int64
	pipeline  pipelineStats
	lag       *lagStats // read from the inbox after the load; nil for -target
	logLevels map[logrus.Level]int
	warnings  map[string]int
	drain     *drainResult // when the phase waits for the backlog to drain
}

// runPayoutd starts payoutd in-process (unless o.target names one) and
// posts signed webhooks at it.
func runPayoutd(ctx context.Context, o options, ph phase, events *eventFactory, progress func(string, ...any)) (res *payoutdResult, err error) {
	res = &payoutdResult{}
	var target string
	var key []byte
	var srv *server
	if o.target != "" {
		if target, err = webhookURL(o.target); err != nil {
			return nil, err
		}
		key = []byte(o.key)
	} else {
		if srv, err = startPayoutd(ctx, o); err != nil {
			return nil, err
		}
		defer func() {
			if serr := srv.stop(); serr != nil && err == nil {
				err = fmt.Errorf("stop payoutd: %w", serr)
			}
		}()
		target, key, res.inProcess = srv.url, srv.key, true
		progress("%s: payoutd listening at %s (%s)", ph.name, target, srv.desc)
	}

	senders := o.concurrency
	if ph.rate > 0 {
		senders = o.maxInFlight
	}
	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        2 * senders,
			MaxIdleConnsPerHost: 2 * senders,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	defer client.CloseIdleConnections()

	var h hooks
	var before pipelineStats
	var profile *os.File
	var profileErr error
	if ph.cpuProfile != "" {
		if profile, err = os.Create(ph.cpuProfile); err != nil {
			return nil, fmt.Errorf("create cpu profile: %w", err)
		}
		defer func() {
			if cerr := profile.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("write cpu profile: %w", cerr)
			}
		}()
	}
	h.windowStart = func() {
		if srv != nil {
			before = srv.pipelineStats()
		}
		if profile != nil {
			profileErr = pprof.StartCPUProfile(profile)
		}
	}
	h.windowEnd = func() {
		if profile != nil && profileErr == nil {
			pprof.StopCPUProfile()
		}
		if srv != nil {
			res.pipeline = srv.pipelineStats().sub(before)
		}
	}

	pgDB := "" // an outside payoutd: every backend may be its
	if srv != nil {
		pgDB = cmp.Or(srv.pgDB, noPostgres) // on SQLite, none is
	}
	send := func(ctx context.Context) outcome {
		return post(ctx, client, target, key, events.withdrawPending(events.next()))
	}
	if ph.rate > 0 {
		res.result = driveOpen(ctx, ph.name, pgDB, ph.rate, senders, o.warmup, ph.window, h, send)
	} else {
		res.result = drive(ctx, ph.name, pgDB, senders, o.warmup, ph.window, h, func(ctx context.Context, _ int) outcome { return send(ctx) })
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if profileErr != nil {
		return nil, fmt.Errorf("start cpu profile: %w", profileErr)
	}
	res.dials = dials.Load()
	if srv == nil {
		return res, nil
	}
	res.logLevels, res.warnings = srv.logs.snapshot()
	if err := checkStored(ctx, srv.store, res.result); err != nil {
		return nil, err
	}
	readAt := time.Now() // the read sees at least what was applied by now
	evs, err := readEventTimes(ctx, srv.store)
	if err != nil {
		return nil, err
	}
	st := lagOf(evs, res.from, res.to, readAt)
	res.lag = &st
	if ph.drain > 0 && o.applier {
		progress("%s: waiting up to %s for the applier to work off the backlog", ph.name, ph.drain)
		if res.drain, err = measureDrain(ctx, srv, pgDB, ph.drain, ph.drainProfile); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// drainResult is the applier working off the backlog with no load.
type drainResult struct {
	applied, remaining int64
	elapsed            time.Duration
	cpu                cpuUsage
}

// measureDrain times the applier until the backlog is gone or limit passes,
// with a CPU profile of it when profilePath is set.
func measureDrain(ctx context.Context, srv *server, pgDB string, limit time.Duration, profilePath string) (_ *drainResult, err error) {
	if profilePath != "" {
		f, err := os.Create(profilePath)
		if err != nil {
			return nil, fmt.Errorf("create drain cpu profile: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("write drain cpu profile: %w", cerr)
			}
		}()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("start drain cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	backlog := func() (int64, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n, _, err := srv.store.InboxBacklog(ctx)
		return n, err
	}
	start, cpu := time.Now(), bench.ReadCPU(pgDB)
	first, err := backlog()
	if err != nil {
		return nil, err
	}
	n := first
	for n > 0 && time.Since(start) < limit {
		// Not more often: the count reads the whole backlog.
		if !bench.SleepUntil(ctx, time.Now().Add(time.Second)) {
			return nil, ctx.Err()
		}
		if n, err = backlog(); err != nil {
			return nil, err
		}
	}
	return &drainResult{applied: first - n, remaining: n, elapsed: time.Since(start), cpu: cpuSince(cpu, pgDB)}, nil
}

// webhookURL accepts payoutd's base URL or the webhook URL itself.
func webhookURL(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", bench.Usagef("-target %q is not an http(s) URL", target)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/webhooks/coinflow"
	}
	return u.String(), nil
}

// post delivers one signed webhook as Coinflow does and classifies the
// answer. Only a 200 is a success.
func post(ctx context.Context, client *http.Client, target string, key, body []byte) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return outcome{kind: "build request"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Coinflow-Signature", webhook.Sign(key, time.Now(), body))
	resp, err := client.Do(req)
	if err != nil {
		return outcome{kind: transportErrorKind(err)}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return outcome{kind: "read answer: " + transportErrorKind(err)}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		kind := "http " + strconv.Itoa(resp.StatusCode)
		if json.Unmarshal(answer, &e) == nil && e.Error.Code != "" {
			kind += " " + e.Error.Code
		}
		return outcome{kind: kind}
	}
	if bytes.Contains(answer, []byte(`"duplicate"`)) {
		// Every event is distinct: a duplicate would be a dedup bug.
		return outcome{ok: true, kind: "200 duplicate (unexpected: every event is distinct)"}
	}
	return outcome{ok: true}
}

func transportErrorKind(err error) string {
	netErr, isNet := errors.AsType[net.Error](err)
	switch {
	case errors.Is(err, context.DeadlineExceeded), isNet && netErr.Timeout():
		return "client timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "transport error"
}

// checkStored cross-checks the load's count against the inbox: every 200
// must be a stored row.
func checkStored(ctx context.Context, store *models.Store, r *result) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	counts, err := store.InboxCounts(ctx)
	if err != nil {
		return err
	}
	var rows int64
	for _, n := range counts {
		rows += n
	}
	if rows < int64(r.ok) {
		r.notes[fmt.Sprintf("inbox holds %d rows, fewer than the %d successes counted", rows, r.ok)]++
	}
	return nil
}
