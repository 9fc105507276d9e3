package main

import (
	"context"
	"fmt"
	"time"

	"github.com/payoutd/payoutd/models"
)

// loadChunk is the rows one INSERT ... SELECT stores.
const loadChunk = 100_000

// load stores n applied events received 500 days ago (one millisecond
// apart), with ~900-byte bodies and unique dedup keys, then vacuums and
// analyses the table as autovacuum would have long since.
func load(ctx context.Context, store *models.Store, n int, progress func(string, ...any)) (time.Duration, error) {
	start := time.Now()
	db := store.DB().WithContext(ctx)
	old := time.Now().UTC().Add(-500 * 24 * time.Hour)
	for from := 1; from <= n; from += loadChunk {
		to := min(from+loadChunk-1, n)
		err := db.Exec(`INSERT INTO inbox_events (dedup_key, event_type, body, received_at, status, attempts, next_attempt_at,
			processed_at, content_hash, auth_method, auth_key, subject_transaction, subject_user_id)
		SELECT 'bench:' || g, 'Withdraw Pending',
			convert_to('{"eventType":"Withdraw Pending","category":"Withdraw","n":' || g || ',"data":{"signature":"' ||
				md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) || '","pad":"' || repeat('x', 700) || '"}}', 'UTF8'),
			?::timestamptz + g * interval '1 millisecond', 'applied', 1, ?::timestamptz + g * interval '1 millisecond',
			?::timestamptz + g * interval '1 millisecond', md5(g::text), 'signature', 'current', 'sig' || g, 'u-' || (g % 5000)
		FROM generate_series(?::bigint, ?::bigint) g`, old, old, old, from, to).Error
		if err != nil {
			return 0, fmt.Errorf("load events %d-%d: %w", from, to, err)
		}
		progress("loaded %d/%d (%s)", to, n, time.Since(start).Round(time.Second))
	}
	if err := db.Exec("VACUUM ANALYZE inbox_events").Error; err != nil {
		return 0, fmt.Errorf("vacuum: %w", err)
	}
	return time.Since(start), nil
}
