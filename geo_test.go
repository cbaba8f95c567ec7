package micropubd

import "testing"

func TestParseGeoURI(t *testing.T) {
	tests := []struct {
		in   string
		want Geo
		ok   bool
	}{
		{"geo:45.52345,-122.67621;u=35", Geo{Latitude: "45.52345", Longitude: "-122.67621", Uncertainty: "35"}, true},
		{"geo:45.51312,-122.66906,12;u=20.5", Geo{"45.51312", "-122.66906", "12", "20.5"}, true},
		{"GEO:1,2;crs=WGS84;foo=bar", Geo{Latitude: "1", Longitude: "2"}, true},
		{"geo:-90,180", Geo{Latitude: "-90", Longitude: "180"}, true},
		{"geo:91,0", Geo{}, false},
		{"geo:0,181", Geo{}, false},
		{"geo:1", Geo{}, false},
		{"geo:1,2,3,4", Geo{}, false},
		{"geo:a,b", Geo{}, false},
		{"geo:1,2;u=-3", Geo{}, false},
		{"geo:1,2;crs=local", Geo{}, false},
		{"https://example.com/", Geo{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseGeoURI(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseGeoURI(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
