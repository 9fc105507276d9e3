// Package benchdb makes and drops the throwaway PostgreSQL databases the
// benchmark commands (cmd/webhookload, cmd/reconcilebench) run on.
package benchdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// AdminURL is the server the commands make their databases on unless
// -database-url says otherwise: the one the tests use
// (PAYOUTD_TEST_DATABASE_URL), else a local PostgreSQL.
func AdminURL(getenv func(string) string) string {
	if u := getenv("PAYOUTD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB is a PostgreSQL database a run created and must drop.
type DB struct {
	admin string
	Name  string
	URL   string
}

// Create makes an empty database named prefix_<random> on the
// server adminURL points at.
func Create(ctx context.Context, adminURL, prefix string) (*DB, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("parse -database-url: %w", err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := prefix + "_" + hex.EncodeToString(suffix[:])
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// An interrupt does not cut the statement short: the server may finish
	// a CREATE DATABASE the client has stopped waiting for, and that
	// database, never returned, would be dropped by no one. The caller,
	// given it, drops it when it sees ctx is done.
	createCtx, cancelCreate := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelCreate()
	if _, err := conn.Exec(createCtx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &DB{admin: adminURL, Name: name, URL: u.String()}, nil
}

// Drop removes the database, disconnecting whoever is still on it. It runs
// at cleanup, so it does not take the run's (possibly cancelled) context.
func (d *DB) Drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", d.Name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.Name, err)
	}
	return nil
}

// DropJoin drops the database and joins a failure to do so to *err. It is
// for a defer in the function that created the database, whose error
// result is named: the database goes however the function ends.
func (d *DB) DropJoin(err *error) {
	if derr := d.Drop(); derr != nil {
		*err = errors.Join(*err, derr)
	}
}
