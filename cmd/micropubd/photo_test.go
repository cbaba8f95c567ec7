package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// twoColourImage is w×h, its left half red and its right half blue.
func twoColourImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// sidewaysJPEG is a w×h JPEG carrying the Exif segment of testdata/media/gps.jpg: orientation
// 6 (shown turned a quarter clockwise) and a GPS position.
func sidewaysJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, twoColourImage(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	gps := readFixture(t, "../../testdata/media/gps.jpg")
	i := bytes.Index(gps, []byte{0xFF, 0xE1})
	if i < 0 {
		t.Fatal("gps.jpg has no APP1 segment")
	}
	app1 := gps[i : i+2+int(binary.BigEndian.Uint16(gps[i+2:i+4]))]
	out := append([]byte{0xFF, 0xD8}, app1...)
	return append(out, buf.Bytes()[2:]...)
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0x9000 && g < 0x6000 && b < 0x6000
}

func isBlue(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return b > 0x9000 && r < 0x6000 && g < 0x6000
}

func TestPhotos_ResizedCopiesAreTurnedStrippedAndOfferedWithSrcset(t *testing.T) {
	srv := newTestServer(t)
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, twoColourImage(1600, 800))
	tests := []struct {
		name, filename, claimed string
		data                    []byte
		width, height           int // as shown
		copies                  []int
		wantType                string
	}{
		{"a sideways camera JPEG", "camera.jpg", "image/jpeg", sidewaysJPEG(t, 3000, 1500), 1500, 3000, []int{640, 1280}, "image/jpeg"},
		{"a PNG", "drawing.png", "image/png", pngBuf.Bytes(), 1600, 800, []int{640, 1280}, "image/png"},
		{"a JPEG between the widths", "mid.jpg", "image/jpeg", sidewaysJPEG(t, 1000, 900), 900, 1000, []int{640}, "image/jpeg"},
		{"a small JPEG", "pixel.jpg", "image/jpeg", readFixture(t, fixtureDir+"/media/pixel.jpg"), 1, 1, nil, "image/jpeg"},
		{"a GIF is served as it is", "noise.gif", "image/gif", bigGIF(t), 1600, 1400, nil, "image/gif"},
	}
	srcset := regexp.MustCompile(`srcset="([^"]*)"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.upload(srv.token, tt.filename, tt.claimed, tt.data, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			original := resp.Header.Get("Location")
			item := decodeJSON(t, body)
			if fmt.Sprint(item["width"]) != itoa(tt.width) || fmt.Sprint(item["height"]) != itoa(tt.height) {
				t.Errorf("upload answer width/height = %v/%v, want %d/%d as shown", item["width"], item["height"], tt.width, tt.height)
			}
			post := srv.create("content=look&photo=" + url.QueryEscape(original))
			_, page := srv.get(post, "")
			img := regexp.MustCompile(`<img class="u-photo"[^>]*>`).Find(page)
			if !bytes.Contains(img, []byte(`width="`+itoa(tt.width)+`" height="`+itoa(tt.height)+`"`)) || !bytes.Contains(img, []byte(`loading="lazy"`)) {
				t.Errorf("the photo's tag lacks its size or lazy loading: %s", img)
			}
			m := srcset.FindSubmatch(img)
			if len(tt.copies) == 0 {
				if m != nil {
					t.Errorf("srcset for a photo without copies: %s", m[1])
				}
				return
			}
			if m == nil {
				t.Fatalf("no srcset: %s", img)
			}
			candidates := strings.Split(string(m[1]), ", ")
			if len(candidates) != len(tt.copies)+1 || candidates[len(candidates)-1] != original+" "+itoa(tt.width)+"w" {
				t.Fatalf("srcset = %q", m[1])
			}
			for i, w := range tt.copies {
				copyURL, descriptor, _ := strings.Cut(candidates[i], " ")
				if descriptor != itoa(w)+"w" {
					t.Errorf("candidate %d is %q, want %dw", i, candidates[i], w)
				}
				resp, data := srv.get(copyURL, "")
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tt.wantType {
					t.Fatalf("GET %s: %d %s", copyURL, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				decoded, _, err := image.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				b := decoded.Bounds()
				if b.Dx() != w || b.Dy() != (tt.height*w+tt.width/2)/tt.width {
					t.Errorf("copy %d is %dx%d", w, b.Dx(), b.Dy())
				}
				if bytes.Contains(data, []byte("Exif")) || bytes.Contains(data, []byte("GPS")) {
					t.Errorf("copy %d carries metadata", w)
				}
				if tt.name == "a sideways camera JPEG" {
					// Turned as shown: the raw image's red left half is now the top.
					if top, bottom := decoded.At(b.Dx()/2, b.Dy()/8), decoded.At(b.Dx()/2, b.Dy()*7/8); !isRed(top) || !isBlue(bottom) {
						t.Errorf("copy %d is not turned: top %v, bottom %v", w, top, bottom)
					}
				}
			}
			if resp, data := srv.get(original, ""); resp.StatusCode != http.StatusOK || len(data) != len(tt.data) {
				t.Errorf("the original: %d, %d bytes of %d", resp.StatusCode, len(data), len(tt.data))
			}
		})
	}
	resp, body := srv.get(srv.base+"micropub/media?q=source", srv.token)
	if n := strings.Count(string(body), `"url"`); resp.StatusCode != http.StatusOK || n != len(tests) {
		t.Errorf("the media listing has %d items, want the %d uploads without their copies", n, len(tests))
	}
}

func TestPhotos_DeletingAnUploadDeletesItsCopies(t *testing.T) {
	srv := newTestServer(t)
	var buf bytes.Buffer
	png.Encode(&buf, twoColourImage(800, 400))
	resp, _ := srv.upload(srv.token, "a.png", "image/png", buf.Bytes(), nil)
	original := resp.Header.Get("Location")
	post := srv.create("photo=" + url.QueryEscape(original))
	_, page := srv.get(post, "")
	m := regexp.MustCompile(`srcset="(\S+) 640w`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no copy in the page")
	}
	if resp, _ := srv.postJSON(`{"action":"update","url":"` + post + `","delete":["photo"],"add":{"content":["no photo"]}}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	if resp, body := srv.post("application/x-www-form-urlencoded", "action=delete&url="+url.QueryEscape(original), srv.token, "micropub/media"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	for _, u := range []string{original, string(m[1])} {
		if resp, _ := srv.get(u, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after the delete: %d", u, resp.StatusCode)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
