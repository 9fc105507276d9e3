package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/webhook"
)

// warmup is unmeasured load before the first phase.
const warmup = 5 * time.Second

// sample is one webhook posted, timed from the start of the load.
type sample struct {
	start, end time.Duration
	ok         bool
}

// measure runs the load throughout, and the phases over it.
func measure(ctx context.Context, srv *server, o options, progress func(string, ...any)) ([]phaseResult, error) {
	phases := make([]phaseResult, 2*o.rounds)
	for r := range o.rounds {
		// off, on, on, off, off, on, ...
		phases[2*r].pruning, phases[2*r+1].pruning = r%2 == 1, r%2 == 0
	}
	total := warmup + time.Duration(len(phases))*o.phase
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * o.concurrency, MaxIdleConnsPerHost: 2 * o.concurrency, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	events := newEvents()

	t0 := time.Now()
	perWorker := make([][]sample, o.concurrency)
	var workers sync.WaitGroup
	for w := range o.concurrency {
		workers.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if o.rate > 0 {
					due := t0.Add(time.Duration(float64(i*o.concurrency+w) / o.rate * float64(time.Second)))
					if !bench.SleepUntil(ctx, due) {
						return
					}
				}
				start := time.Since(t0)
				if start >= total {
					return
				}
				ok := post(ctx, client, srv.url, srv.key, events.next())
				perWorker[w] = append(perWorker[w], sample{start: start, end: time.Since(t0), ok: ok})
			}
		})
	}

	progress("warm-up %s, then %d phases of %s", warmup, len(phases), o.phase)
	var err error
	for i := range phases {
		p := &phases[i]
		phaseStart := t0.Add(warmup + time.Duration(i)*o.phase)
		if !bench.SleepUntil(ctx, phaseStart) {
			break
		}
		if !p.pruning {
			continue
		}
		pctx, cancel := context.WithDeadline(ctx, phaseStart.Add(o.phase))
		begin := time.Now()
		for pctx.Err() == nil {
			res, rerr := srv.pruner.Run(pctx)
			p.pruned += res.Pruned
			p.batches += res.Batches
			if rerr != nil && pctx.Err() == nil {
				err = fmt.Errorf("prune: %w", rerr)
				break
			}
			if res.Done {
				p.done = true
				break
			}
		}
		p.active = time.Since(begin)
		cancel()
		progress("phase %d (pruning): %d bodies cleared in %s", i+1, p.pruned, p.active.Round(time.Millisecond))
		if err != nil {
			break
		}
	}
	workers.Wait()
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, samples := range perWorker {
		for _, s := range samples {
			if s.start < warmup {
				continue
			}
			p := &phases[min(int((s.start-warmup)/o.phase), len(phases)-1)]
			if s.ok {
				p.lat = append(p.lat, s.end-s.start)
			} else {
				p.errs++
			}
		}
	}
	for i := range phases {
		slices.Sort(phases[i].lat)
	}
	return phases, nil
}

// events makes distinct "Withdraw Pending" webhooks: each its own
// transaction signature, created time and idempotency key.
type events struct {
	run     string
	created time.Time
	seq     atomic.Uint64
}

func newEvents() *events {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &events{run: base58ID(hex.EncodeToString(b[:]), 0, 8), created: time.Now().UTC()}
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58ID is seed's base-58 letters, then n in base 58, filled to width.
func base58ID(seed string, n uint64, width int) string {
	var b strings.Builder
	for _, c := range []byte(seed) {
		b.WriteByte(base58[int(c)%len(base58)])
	}
	var digits [11]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = base58[n%58]
		n /= 58
	}
	b.Write(digits[:])
	for j := 0; b.Len() < width; j++ {
		b.WriteByte(base58[(j*7+3)%len(base58)])
	}
	return b.String()[:width]
}

func (e *events) next() []byte {
	n := e.seq.Add(1)
	created := e.created.Add(time.Duration(n) * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
	r := strings.NewReplacer(
		"{created}", created, "{wallet}", base58ID("W"+e.run, n%5000, 44), "{signature}", base58ID("S"+e.run, n, 88),
		"{cents}", strconv.FormatUint(1000+n%250000, 10), "{user}", "u-"+strconv.FormatUint(n%5000, 10),
		"{key}", e.run+"-"+strconv.FormatUint(n, 10),
	)
	return []byte(r.Replace(withdrawPending))
}

// withdrawPending is testdata/coinflow/fixtures/webhooks/withdraw-pending.json
// with what identifies an event left to fill in.
const withdrawPending = `{
  "eventType": "Withdraw Pending",
  "category": "Withdraw",
  "created": "{created}",
  "data": {
    "wallet": "{wallet}",
    "blockchain": "solana",
    "signature": "{signature}",
    "userFees": {"cents": 0, "currency": "USD"},
    "userGasFees": {"cents": 0, "currency": "USD"},
    "userCustomFees": {"cents": 0, "currency": "USD"},
    "merchantFees": {"cents": 150, "currency": "USD"},
    "merchantGasFees": {"cents": 0, "currency": "USD"},
    "total": {"cents": {cents}, "currency": "USD"},
    "currency": "USD",
    "merchantId": "acme-payouts",
    "userId": "{user}",
    "idempotencyKey": "{key}"
  }
}
`

// post delivers one signed webhook; only a 200 "stored" counts.
func post(ctx context.Context, client *http.Client, target string, key, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Coinflow-Signature", webhook.Sign(key, time.Now(), body))
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return err == nil && resp.StatusCode == http.StatusOK && bytes.Contains(answer, []byte(`"stored"`))
}
