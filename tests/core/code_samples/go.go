// Package span measures and parses time spans.
package span

import (
	"errors"
	"sort"
	"time"
)

const maxUnits = "hms"

var ErrEmpty = errors.New("span: empty duration")

// Span is a closed time interval.
type Span struct {
	Start time.Time
	End   time.Time
}

// Len returns the length of the span.
func (s *Span) Len() time.Duration {
	if s.End.Before(s.Start) {
		return 0
	}
	return s.End.Sub(s.Start)
}

// ParseDuration parses "1h30m" style durations with h, m and s units.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, ErrEmpty
	}
	var total time.Duration
	n := 0
	for _, c := range s {
		switch c {
		case 'h':
			total += time.Duration(n) * time.Hour
			n = 0
		case 'm':
			total += time.Duration(n) * time.Minute
			n = 0
		case 's':
			total += time.Duration(n) * time.Second
			n = 0
		default:
			n = n*10 + int(c-'0')
		}
	}
	return total, nil
}

// Merge joins overlapping spans.
func Merge(spans []Span) []Span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start.Before(spans[j].Start) })
	out := spans[:0]
	for _, s := range spans {
		if len(out) > 0 && !s.Start.After(out[len(out)-1].End) {
			out[len(out)-1].End = s.End
			continue
		}
		out = append(out, s)
	}
	return out
}
