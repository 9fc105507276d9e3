// Command eventsbench measures the event log (GET /api/v1/events, the
// store's InboxList) on a large archive: n stored webhooks in a fresh
// PostgreSQL database, loaded in one INSERT … SELECT over generate_series
// (receipt times one second apart, four event types, a fifth of them
// ignored or parked, three events per withdrawal, 50,000 users, a tenth
// authenticated by the Authorization header), then VACUUM ANALYZE. It
// times InboxList for the first page without a filter, the first page of
// each filter, and a page from a cursor deep in the archive (at the
// middle and near the oldest end), -samples times each, interleaved, and
// prints p50 and p99 per query and the EXPLAIN (ANALYZE, BUFFERS) of the
// statement the store sent for the first page and the deepest cursor. The
// database is dropped at the end (unless -keep).
//
//	go run ./cmd/eventsbench -n 10000000
//	go run ./cmd/eventsbench -n 1000000 -samples 500 -keep
//
// Target: p99 under 50 ms for every query at 10,000,000 events. It exits 0
// whatever the figures (a measurement, not a test); setup failures exit 1
// and bad flags 2.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/models"
)

func main() { bench.Main("eventsbench", run) }

const targetP99 = 50 * time.Millisecond

type options struct {
	databaseURL string
	n           int
	samples     int
	limit       int
	keep        bool
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := bench.NewFlagSet("eventsbench")
	fs.StringVar(&o.databaseURL, "database-url", benchdb.AdminURL(getenv), "PostgreSQL admin URL; the run creates and drops its own database there")
	fs.IntVar(&o.n, "n", 10_000_000, "stored webhooks to load")
	fs.IntVar(&o.samples, "samples", 200, "timings per query")
	fs.IntVar(&o.limit, "limit", 50, "page size (the API's default)")
	fs.BoolVar(&o.keep, "keep", false, "keep the database and print its URL")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	var errs []string
	if o.n < 10 || o.samples < 1 || o.limit < 1 || o.limit > 500 {
		errs = append(errs, "-n must be at least 10, -samples at least 1, -limit from 1 to 500")
	}
	if !strings.HasPrefix(o.databaseURL, "postgres://") && !strings.HasPrefix(o.databaseURL, "postgresql://") {
		errs = append(errs, "-database-url must be a postgres:// URL")
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(args[1:], getenv)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "eventsbench: "+format+"\n", a...) }
	store, _, finish, err := benchdb.Migrated(ctx, o.databaseURL, "payoutd_eventsbench", o.keep, stdout)
	if err != nil {
		return err
	}
	defer finish(&err)
	start := time.Now()
	progress("loading %d events…", o.n)
	if err := load(ctx, store.DB(), o.n); err != nil {
		return err
	}
	progress("loaded in %s", time.Since(start).Round(time.Second))
	return measure(ctx, store, o, stdout, progress)
}

// load writes n events and analyzes the table.
func load(ctx context.Context, db *gorm.DB, n int) error {
	const insert = `INSERT INTO inbox_events (dedup_key, event_type, body, received_at, status, attempts, next_attempt_at,
  auth_method, auth_key, subject_transaction, subject_user_id)
SELECT 'ev:' || g, (ARRAY['Withdraw Pending','Withdraw Success','Withdraw Failure','KYC Success'])[1 + g % 4],
  convert_to('{"eventType":"Withdraw Pending","category":"Withdraw","data":{"n":' || g || '}}', 'UTF8'),
  timestamptz '2025-01-01' + make_interval(secs => g), (ARRAY['applied','applied','applied','ignored','parked'])[1 + g % 5], 1,
  timestamptz '2025-01-01' + make_interval(secs => g),
  CASE WHEN g % 10 = 0 THEN 'authorization' ELSE 'signature' END, 'current', 'tx' || (g / 3), 'u-' || (g % 50000)
FROM generate_series(?::bigint, ?::bigint) g`
	const batch = 1_000_000
	for from := 1; from <= n; from += batch {
		to := min(from+batch-1, n)
		if err := db.WithContext(ctx).Exec(insert, from, to).Error; err != nil {
			return fmt.Errorf("load events %d-%d: %w", from, to, err)
		}
	}
	return db.WithContext(ctx).Exec("VACUUM ANALYZE inbox_events").Error
}

// query is one list the event log may ask for.
type query struct {
	name string
	f    models.InboxFilter
}

func measure(ctx context.Context, store *models.Store, o options, stdout io.Writer, progress func(string, ...any)) error {
	mid, err := cursorAt(ctx, store, o.n/2)
	if err != nil {
		return err
	}
	deep, err := cursorAt(ctx, store, o.n-o.limit*2)
	if err != nil {
		return err
	}
	page := models.Page{Limit: o.limit}
	queries := []query{
		{"first page", models.InboxFilter{Page: page}},
		{"state=parked", models.InboxFilter{Statuses: []models.InboxStatus{models.InboxParked}, Page: page}},
		{"event_type", models.InboxFilter{EventType: "Withdraw Failure", Page: page}},
		{"transaction", models.InboxFilter{Transaction: fmt.Sprintf("tx%d", o.n/6), Page: page}},
		{"user_id", models.InboxFilter{UserID: "u-4242", Page: page}},
		{"auth=authorization", models.InboxFilter{AuthMethod: models.AuthAuthorization, Page: page}},
		{"from/to (one day)", models.InboxFilter{From: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), Page: page}},
		{"cursor at the middle", models.InboxFilter{Page: models.Page{Limit: o.limit, Cursor: mid}}},
		{"cursor near the oldest", models.InboxFilter{Page: models.Page{Limit: o.limit, Cursor: deep}}},
		{"state=parked, deep cursor", models.InboxFilter{Statuses: []models.InboxStatus{models.InboxParked}, Page: models.Page{Limit: o.limit, Cursor: deep}}},
	}
	times := make([][]time.Duration, len(queries))
	progress("timing %d queries, %d samples each, interleaved…", len(queries), o.samples)
	for range o.samples {
		for i, q := range queries {
			t := time.Now()
			evs, _, err := store.InboxList(ctx, q.f)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			times[i] = append(times[i], time.Since(t))
			if len(evs) == 0 && !strings.HasPrefix(q.name, "transaction") {
				return fmt.Errorf("%s: no events", q.name)
			}
		}
	}
	fmt.Fprintf(stdout, "event log on %d stored webhooks, PostgreSQL, page of %d, %d samples per query (interleaved)\n\n", o.n, o.limit, o.samples)
	fmt.Fprintf(stdout, "%-28s %10s %10s  %s\n", "query", "p50 ms", "p99 ms", "p99 < 50 ms")
	for i, q := range queries {
		p50, p99 := pct(times[i], 50), pct(times[i], 99)
		fmt.Fprintf(stdout, "%-28s %10.2f %10.2f  %v\n", q.name, ms(p50), ms(p99), p99 < targetP99)
	}
	for _, q := range []query{queries[0], queries[8], queries[9]} {
		plan, err := explain(ctx, store, q.f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nEXPLAIN (ANALYZE, BUFFERS), %s:\n%s\n", q.name, plan)
	}
	return nil
}

// cursorAt is the cursor a client paging newest first holds once it has
// read the event at position k.
func cursorAt(ctx context.Context, store *models.Store, k int) (string, error) {
	var row struct {
		ID         int64
		ReceivedAt time.Time
	}
	err := store.DB().WithContext(ctx).Raw("SELECT id, received_at FROM inbox_events ORDER BY received_at DESC, id DESC OFFSET ? LIMIT 1", k).Scan(&row).Error
	if err != nil {
		return "", fmt.Errorf("find event %d: %w", k, err)
	}
	return models.CursorAt(row.ReceivedAt, fmt.Sprint(row.ID)), nil
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) on the statement InboxList sends
// for f, captured from GORM as it runs.
func explain(ctx context.Context, store *models.Store, f models.InboxFilter) (string, error) {
	var sql string
	db := store.DB()
	name := "eventsbench:capture"
	if err := db.Callback().Query().After("gorm:query").Register(name, func(tx *gorm.DB) {
		if strings.Contains(tx.Statement.SQL.String(), "inbox_events") {
			sql = tx.Dialector.Explain(tx.Statement.SQL.String(), tx.Statement.Vars...)
		}
	}); err != nil {
		return "", err
	}
	defer func() { _ = db.Callback().Query().Remove(name) }()
	if _, _, err := store.InboxList(ctx, f); err != nil {
		return "", err
	}
	var lines []string
	rows, err := db.WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS) " + sql).Rows()
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", err
		}
		lines = append(lines, "  "+l)
	}
	return "  " + sql + "\n" + strings.Join(lines, "\n"), rows.Err()
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
