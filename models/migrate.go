package models

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrationLockID is the PostgreSQL advisory lock key that serialises
// migrations of several payoutd processes starting at once.
const migrationLockID = 0x7061796f75 // "payou"

func migrationsFor(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		b, err := migrationFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// LatestVersion is the newest migration this binary carries for the dialect.
func LatestVersion(dialect string) (int, error) {
	ms, err := migrationsFor(dialect)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].version, nil
}

// Migrate applies every migration not yet applied, in one transaction, and
// returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	ms, err := migrationsFor(s.dialect)
	if err != nil {
		return nil, err
	}
	var applied []int
	err = s.Tx(ctx, func(tx *Store) error {
		if s.dialect == DialectPostgres {
			if err := tx.db.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockID).Error; err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		if err := tx.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []int
		if err := tx.db.Raw("SELECT version FROM schema_migrations").Scan(&done).Error; err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		have := map[int]bool{}
		for _, v := range done {
			have[v] = true
		}
		for _, m := range ms {
			if have[m.version] {
				continue
			}
			if err := tx.db.Exec(m.sql).Error; err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if err := tx.db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, tx.Now().Format("2006-01-02T15:04:05.000000Z")).Error; err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	return applied, err
}

// MigrationVersion is the newest migration applied to the database (0 when
// none or the table does not exist yet).
func (s *Store) MigrationVersion(ctx context.Context) (int, error) {
	var v *int
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error; err != nil {
		if strings.Contains(err.Error(), "schema_migrations") {
			return 0, nil
		}
		return 0, fmt.Errorf("read migration version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// MigrationsCurrent reports whether every migration this binary carries has
// been applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	want, err := LatestVersion(s.dialect)
	if err != nil {
		return false, err
	}
	got, err := s.MigrationVersion(ctx)
	if err != nil {
		return false, err
	}
	return got >= want, nil
}
