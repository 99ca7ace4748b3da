package duckdb

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Query reads its rows from the driver directly and assigns each value
// with assign, a type switch over the destinations the callers use, rather
// than through database/sql's conversion, which goes through reflection for
// every value: that is most of the cost of reading millions of rows (the
// hires of the distinct counts, the aggregates of a release).

// assign stores src, a value as the DuckDB driver returns it (nil, bool,
// integers, floats, string, []byte, time.Time, []any, or a type with a
// String method such as *big.Int for HUGEINT), in dest. dest may be a
// pointer to any, string, *string, bool, an integer, float64, time.Time,
// []any or []byte, or an sql.Scanner. A NULL sets *string to nil and the
// others to their zero value, except for a Scanner, which gets nil.
func assign(dest, src any) error {
	if s, ok := dest.(sql.Scanner); ok {
		return s.Scan(src)
	}
	switch d := dest.(type) {
	case *any:
		*d = src
		return nil
	case **string:
		if src == nil {
			*d = nil
			return nil
		}
		var s string
		if err := assign(&s, src); err != nil {
			return err
		}
		*d = &s
		return nil
	case *string:
		switch v := src.(type) {
		case nil:
			*d = ""
		case string:
			*d = v
		case []byte:
			*d = string(v)
		case time.Time:
			*d = v.Format(time.RFC3339Nano)
		case fmt.Stringer:
			*d = v.String()
		default:
			*d = fmt.Sprint(v)
		}
		return nil
	case *bool:
		switch v := src.(type) {
		case nil:
			*d = false
		case bool:
			*d = v
		default:
			return fmt.Errorf("scan: cannot store %T in *bool", src)
		}
		return nil
	case *float64:
		f, err := toFloat(src)
		*d = f
		return err
	case *time.Time:
		switch v := src.(type) {
		case nil:
			*d = time.Time{}
		case time.Time:
			*d = v
		default:
			return fmt.Errorf("scan: cannot store %T in *time.Time", src)
		}
		return nil
	case *[]any:
		switch v := src.(type) {
		case nil:
			*d = nil
		case []any:
			*d = v
		default:
			return fmt.Errorf("scan: cannot store %T in *[]any", src)
		}
		return nil
	case *[]byte:
		switch v := src.(type) {
		case nil:
			*d = nil
		case []byte:
			*d = append((*d)[:0], v...)
		case string:
			*d = append((*d)[:0], v...)
		default:
			return fmt.Errorf("scan: cannot store %T in *[]byte", src)
		}
		return nil
	case *uint64:
		u, err := toUint(src)
		*d = u
		return err
	case *uint32:
		u, err := toUint(src)
		if err == nil && u > math.MaxUint32 {
			err = fmt.Errorf("scan: %d overflows uint32", u)
		}
		*d = uint32(u)
		return err
	}
	i, err := toInt(src)
	if err != nil {
		return err
	}
	var lo, hi int64
	switch d := dest.(type) {
	case *int64:
		*d = i
		return nil
	case *int:
		*d = int(i)
		return nil
	case *int32:
		lo, hi = math.MinInt32, math.MaxInt32
		*d = int32(i)
	case *int16:
		lo, hi = math.MinInt16, math.MaxInt16
		*d = int16(i)
	case *int8:
		lo, hi = math.MinInt8, math.MaxInt8
		*d = int8(i)
	default:
		return fmt.Errorf("scan: unsupported destination %T", dest)
	}
	if i < lo || i > hi {
		return fmt.Errorf("scan: %d overflows %T", i, dest)
	}
	return nil
}

// toInt converts an integer value of the driver to int64 (NULL: 0).
func toInt(src any) (int64, error) {
	switch v := src.(type) {
	case nil:
		return 0, nil
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case uint8:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("scan: %d overflows int64", v)
		}
		return int64(v), nil
	case int:
		return int64(v), nil
	case fmt.Stringer: // HUGEINT
		return strconv.ParseInt(v.String(), 10, 64)
	}
	return 0, fmt.Errorf("scan: cannot store %T in an integer", src)
}

// toUint converts a non-negative integer value of the driver to uint64.
func toUint(src any) (uint64, error) {
	switch v := src.(type) {
	case uint64:
		return v, nil
	case fmt.Stringer:
		return strconv.ParseUint(v.String(), 10, 64)
	}
	i, err := toInt(src)
	if err == nil && i < 0 {
		err = fmt.Errorf("scan: %d is negative", i)
	}
	return uint64(i), err
}

// toFloat converts a numeric value of the driver to float64 (NULL: 0).
func toFloat(src any) (float64, error) {
	switch v := src.(type) {
	case float64:
		return v, nil
	case float32:
		return float64(v), nil
	case fmt.Stringer: // HUGEINT, DECIMAL
		return strconv.ParseFloat(v.String(), 64)
	}
	i, err := toInt(src)
	if err != nil {
		if u, ok := src.(uint64); ok {
			return float64(u), nil
		}
	}
	return float64(i), err
}

// scanner returns the scan function of a row of vals.
func scanner(vals []driver.Value) func(dest ...any) error {
	return func(dest ...any) error {
		if len(dest) != len(vals) {
			return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(vals))
		}
		for i, d := range dest {
			if err := assign(d, vals[i]); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
		}
		return nil
	}
}
