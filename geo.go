package micropubd

import (
	"regexp"
	"strconv"
	"strings"
)

// Geo is a position from an RFC 5870 geo URI, its numbers kept as written.
type Geo struct {
	Latitude, Longitude string
	Altitude            string // metres, or ""
	Uncertainty         string // metres, from ;u=, or ""
}

var geoNumber = regexp.MustCompile(`^-?\d+(\.\d+)?$`)

// ParseGeoURI reads a geo URI such as geo:45.52345,-122.67621;u=35 (RFC 5870: WGS 84
// latitude, longitude and optional altitude, then parameters, of which u is the uncertainty).
func ParseGeoURI(s string) (Geo, bool) {
	if len(s) < 4 || !strings.EqualFold(s[:4], "geo:") {
		return Geo{}, false
	}
	parts := strings.Split(s[4:], ";")
	coords := strings.Split(parts[0], ",")
	if len(coords) < 2 || len(coords) > 3 {
		return Geo{}, false
	}
	for _, c := range coords {
		if !geoNumber.MatchString(c) {
			return Geo{}, false
		}
	}
	g := Geo{Latitude: coords[0], Longitude: coords[1]}
	if len(coords) == 3 {
		g.Altitude = coords[2]
	}
	lat, _ := strconv.ParseFloat(g.Latitude, 64)
	lon, _ := strconv.ParseFloat(g.Longitude, 64)
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return Geo{}, false
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "crs":
			if !strings.EqualFold(v, "wgs84") {
				return Geo{}, false
			}
		case "u":
			if !geoNumber.MatchString(v) || strings.HasPrefix(v, "-") {
				return Geo{}, false
			}
			g.Uncertainty = v
		}
	}
	return g, true
}
