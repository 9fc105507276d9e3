package main

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/payoutd/payoutd/models"
)

// sqlStats times every statement the store sends through GORM, by its
// shape (the SQL with parameter lists collapsed), from sending to the
// result: database work plus the round trip plus the driver. BEGIN and
// COMMIT are not GORM statements and do not show.
type sqlStats struct {
	on atomic.Bool
	mu sync.Mutex
	by map[string]*sqlStat
}

type sqlStat struct {
	shape string
	n     int
	total time.Duration
	rows  int64
}

const sqlStartKey = "reconcilebench:start"

// watchSQL starts timing the store's statements, through GORM callbacks on
// its handle.
func watchSQL(store *models.Store) (*sqlStats, error) {
	s := &sqlStats{by: map[string]*sqlStat{}}
	s.on.Store(true)
	before := func(tx *gorm.DB) {
		if s.on.Load() {
			tx.InstanceSet(sqlStartKey, time.Now())
		}
	}
	after := func(tx *gorm.DB) {
		v, ok := tx.InstanceGet(sqlStartKey)
		if !ok {
			return
		}
		s.add(tx.Statement.SQL.String(), time.Since(v.(time.Time)), tx.RowsAffected)
	}
	cb := store.DB().Callback()
	type register = func(string, func(*gorm.DB)) error
	for _, h := range []struct {
		name          string
		before, after register
	}{
		{"create", cb.Create().Before("gorm:create").Register, cb.Create().After("gorm:create").Register},
		{"query", cb.Query().Before("gorm:query").Register, cb.Query().After("gorm:query").Register},
		{"update", cb.Update().Before("gorm:update").Register, cb.Update().After("gorm:update").Register},
		{"delete", cb.Delete().Before("gorm:delete").Register, cb.Delete().After("gorm:delete").Register},
		{"row", cb.Row().Before("gorm:row").Register, cb.Row().After("gorm:row").Register},
		{"raw", cb.Raw().Before("gorm:raw").Register, cb.Raw().After("gorm:raw").Register},
	} {
		if err := h.before(sqlStartKey, before); err != nil {
			return nil, fmt.Errorf("watch %s statements: %w", h.name, err)
		}
		if err := h.after("reconcilebench:end", after); err != nil {
			return nil, fmt.Errorf("watch %s statements: %w", h.name, err)
		}
	}
	return s, nil
}

// stop ends the timing (the callbacks stay, doing nothing).
func (s *sqlStats) stop() { s.on.Store(false) }

var (
	sqlParam     = regexp.MustCompile(`\$\d+`)
	sqlParamList = regexp.MustCompile(`\?(,\s*\?)+`)
)

func (s *sqlStats) add(sql string, took time.Duration, rows int64) {
	shape := sqlParamList.ReplaceAllString(sqlParam.ReplaceAllString(sql, "?"), "?,...")
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.by[shape]
	if st == nil {
		st = &sqlStat{shape: shape}
		s.by[shape] = st
	}
	st.n++
	st.total += took
	st.rows += rows
}

// report prints the statements that took longest in all, at most top.
func (s *sqlStats) report(w io.Writer, run time.Duration, top int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*sqlStat, 0, len(s.by))
	var total time.Duration
	var n int
	for _, st := range s.by {
		all = append(all, st)
		total += st.total
		n += st.n
	}
	slices.SortFunc(all, func(a, b *sqlStat) int { return cmp.Compare(b.total, a.total) })
	fmt.Fprintf(w, "  statements: %d in %s (%.0f%% of the run; the rest is Go work, BEGIN/COMMIT and waiting on Coinflow pages)\n",
		n, total.Round(time.Millisecond), 100*total.Seconds()/run.Seconds())
	for _, st := range all[:min(top, len(all))] {
		shape := st.shape
		if len(shape) > 150 {
			shape = shape[:147] + "..."
		}
		fmt.Fprintf(w, "  %9s %5.1f%% %8d x %8.1fus  rows %-9d %s\n", st.total.Round(time.Millisecond),
			100*st.total.Seconds()/run.Seconds(), st.n, float64(st.total.Microseconds())/float64(st.n), st.rows, shape)
	}
}
