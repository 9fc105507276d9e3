package models

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Changes records the fields a decision changed beside the status, as
// column name to [old, new]. Only fields finance can see are recorded
// (amounts, fees, speeds, dates, a return, a transaction); never an account
// token or anything personal.
type Changes map[string][2]any

// Value stores Changes as JSON text, or NULL when empty.
func (c Changes) Value() (driver.Value, error) {
	if len(c) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(map[string][2]any(c))
	return string(b), err
}

// Scan reads Changes from JSON text.
func (c *Changes) Scan(src any) error {
	b, err := jsonText(src, "changes")
	if err != nil || b == nil {
		*c = nil
		return err
	}
	m := map[string][2]any{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // cents stay integers, never floats
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("scan changes: %w", err)
	}
	*c = m
	return nil
}

// jsonText is a JSON column's text as the drivers hand it over (string or
// bytes); nil for NULL.
func jsonText(src any, what string) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("scan %s from %T", what, src)
}
