package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
)

// migrateCommand brings the database's schema up to this binary's.
func migrateCommand(*flag.FlagSet) action {
	return func(ctx context.Context, e env) error { return migrate(ctx, e.cfg, e.log, e.stdout) }
}

func migrate(ctx context.Context, cfg Config, log *logrus.Logger, stdout io.Writer) error {
	store, applied, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.MigrationVersion(ctx)
	if err != nil {
		return err
	}
	log.WithFields(logrus.Fields{"dialect": store.Dialect(), "applied": applied, "version": v}).Info("migrated")
	fmt.Fprintf(stdout, "database (%s) at migration version %d; applied %d now\n", store.Dialect(), v, len(applied))
	return nil
}
