package benchdb

import (
	"context"
	"fmt"
	"io"

	"github.com/payoutd/payoutd/models"
)

// Migrated creates a database as Create does and opens a migrated store on
// it. finish is for a defer in the caller, whose error result is named: it
// closes the store and drops the database (joining a failure to *err), or
// with keep leaves the database and prints its URL to w.
func Migrated(ctx context.Context, adminURL, prefix string, keep bool, w io.Writer) (_ *models.Store, _ *DB, finish func(err *error), err error) {
	db, err := Create(ctx, adminURL, prefix)
	if err != nil {
		return nil, nil, nil, err
	}
	release := func(err *error) {
		if keep {
			fmt.Fprintf(w, "database kept: %s\n", db.URL)
			return
		}
		db.DropJoin(err)
	}
	store, err := models.Open(ctx, models.Options{URL: db.URL})
	if err != nil {
		release(&err)
		return nil, nil, nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		_ = store.Close()
		release(&err)
		return nil, nil, nil, err
	}
	return store, db, func(err *error) {
		_ = store.Close()
		release(err)
	}, nil
}
