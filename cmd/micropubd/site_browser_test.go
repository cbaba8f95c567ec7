package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// avatar is a size×size PNG: a disc of colour c on white.
func avatar(size int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	r := float64(size) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if math.Hypot(float64(x)-r+.5, float64(y)-r+.5) < r {
				img.SetRGBA(x, y, c)
			} else {
				img.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// landscape is a w×h JPEG of a sky over hills, for the photo post.
func landscape(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			hill := float64(h)*0.62 + math.Sin(float64(x)/float64(w)*7)*float64(h)*0.08
			c := color.RGBA{uint8(90 + 100*y/h), uint8(150 + 80*y/h), 235, 255}
			if float64(y) > hill {
				c = color.RGBA{uint8(40 + 30*x/w), uint8(110 + 40*y/h), 60, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

// TestBrowser_SitePagesLookFinished fills a site as a reader finds it (articles, notes, a
// photo, a check-in, replies and likes from another site) and takes desktop and phone
// screenshots of the homepage, a long article, a photo post, a check-in and a post with
// webmentions, checking each page loads with no error and no CSP refusal.
func TestBrowser_SitePagesLookFinished(t *testing.T) {
	chrome := chromiumPath(t)
	me := avatar(160, color.RGBA{11, 87, 164, 255})
	sum := sha256.Sum256(me)
	var srv *testServer
	srv = newWebmentionServer(t, "Ada Example", func(c *serverConfig) {
		c.Photo = c.BaseURL.String() + "media/" + hex.EncodeToString(sum[:])[:40] + ".png"
		c.Webmentions.PerHostPerMinute = 1000
	})
	if resp, body := srv.upload(srv.token, "me.png", "image/png", me, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("avatar: %d %s", resp.StatusCode, body)
	}

	// Another site, whose people reply to and like the posts.
	people := map[string]color.RGBA{"ann": {200, 80, 60, 255}, "ben": {60, 150, 90, 255}, "cho": {150, 90, 180, 255}, "dev": {220, 160, 40, 255}}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := people[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/face/"), ".png")]; ok {
			w.Header().Set("Content-Type", "image/png")
			w.Write(avatar(96, c))
			return
		}
		q := r.URL.Query()
		who, kind, to := q.Get("who"), q.Get("kind"), q.Get("to")
		base := "http://" + r.Host
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		name := strings.ToUpper(who[:1]) + who[1:] + " " + map[string]string{"ann": "Lovelace", "ben": "Okafor", "cho": "Min", "dev": "Patel"}[who]
		fmt.Fprintf(w, `<!doctype html><title>%s</title><article class="h-entry">
<a class="p-author h-card" href="%s/%s"><img class="u-photo" src="%s/face/%s.png" alt=""> <span class="p-name">%s</span></a>
<a class="u-%s" href="%s">this</a>
<div class="e-content">%s</div>
<time class="dt-published" datetime="2026-03-1%dT09:30:00Z">March</time></article>`,
			name, base, who, base, who, name, kind, html.EscapeString(to), q.Get("text"), 5+len(who)%3)
	}))
	defer other.Close()
	mention := func(post, who, kind, text string) {
		source := other.URL + "/post?" + url.Values{"who": {who}, "kind": {kind}, "to": {post}, "text": {text}}.Encode()
		if resp, body := sendWebmention(t, srv.base+"webmention", source, post); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("webmention: %d %v", resp.StatusCode, body)
		}
	}

	photoData := landscape(2400, 1500)
	resp, body := srv.upload(srv.token, "hills.jpg", "image/jpeg", photoData, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("photo: %d %s", resp.StatusCode, body)
	}
	photoURL := resp.Header.Get("Location")

	long := `<p>Every site that publishes with Micropub can also talk to other sites. This post walks through what happens when someone replies to you from their own site, and why it matters that the reply stays theirs.</p>
<h2>Sending</h2>
<p>When you post a reply, your server reads the page you reply to, finds its <a href="https://www.w3.org/TR/webmention/">webmention endpoint</a>, and tells it where your reply lives. Nothing is copied: the other site fetches your page and decides what to show.</p>
<blockquote><p>The web is a conversation between sites, not inside one.</p></blockquote>
<h2>Receiving</h2>
<p>Your server answers at once and checks later: it fetches the page that says it links to you, makes sure the link is there, and reads who wrote it.</p>
<ul><li>Replies become comments.</li><li>Likes and reposts become a row of faces.</li><li>Anything else is listed as a mention.</li></ul>
<p>That is all there is to it, and it works across every IndieWeb site.</p>`
	article := srv.create("name=" + url.QueryEscape("How sites reply to each other") + "&content[html]=" + url.QueryEscape(long) +
		"&category=indieweb&category=webmention&published=2026-03-10T08:00:00-05:00")
	photo := srv.create("content=" + url.QueryEscape("Evening light over the hills, after a long walk.") + "&photo=" + url.QueryEscape(photoURL) +
		"&mp-photo-alt=" + url.QueryEscape("Green hills under a pale blue sky") + "&category=walks&published=2026-03-11T19:40:00Z")
	resp, body = srv.postJSON(`{"type":["h-entry"],"properties":{"published":["2026-03-12T12:34:56-08:00"],"content":["Lunch with the team."],` +
		`"checkin":[{"type":["h-card"],"properties":{"name":["Ford Food and Drink"],"url":["http://www.fordfoodanddrink.com/"],` +
		`"street-address":["2505 SE 11th Ave"],"locality":["Portland"],"region":["OR"],"latitude":[45.5048473],"longitude":[-122.6549551]}}]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("check-in: %d %s", resp.StatusCode, body)
	}
	checkin := resp.Header.Get("Location")
	resp, _ = srv.postJSON(`{"type":["h-entry"],"properties":{"published":["2026-03-13T07:00:00Z"],"content":["Agreed: the archive should outlive the app."],` +
		`"in-reply-to":[{"type":["h-cite"],"properties":{"name":["Own your archive"],"url":["https://blog.example.org/own-your-archive"]}}]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatal("reply")
	}
	talked := srv.create("content=" + url.QueryEscape("Webmentions work now: reply to this from your own site and it shows up here.") + "&published=2026-03-14T09:00:00Z")
	mention(talked, "ann", "in-reply-to", "<p>It works! This reply lives on my site and shows up on yours.</p>")
	mention(talked, "ben", "in-reply-to", "<p>Nice. Do edits come through too?</p><p>Trying one now.</p>")
	for _, who := range []string{"ann", "cho", "dev"} {
		mention(talked, who, "like-of", "")
	}
	mention(talked, "ben", "repost-of", "")
	mention(article, "cho", "in-reply-to", "<p>Clear explanation, thank you.</p>")
	eventually(t, "the webmentions shown", 15*time.Second, func() bool {
		props := srv.source(talked)["properties"].(map[string]any)
		c, _ := props["comment"].([]any)
		l, _ := props["like"].([]any)
		r, _ := props["repost"].([]any)
		return len(c) == 2 && len(l) == 3 && len(r) == 1
	})

	ctx := newChrome(t, chrome, 90*time.Second)
	b := tab{t: t, ctx: ctx}
	problems := b.consoleProblems()
	pages := []struct{ name, url, wait string }{
		{"site-home", srv.base, "main.h-feed"},
		{"site-article", article, "article.h-entry"},
		{"site-photo", photo, "img.u-photo"},
		{"site-checkin", checkin, ".p-checkin"},
		{"site-webmentions", talked, "#responses"},
	}
	for _, device := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		b.viewport(device.w, device.h, device.mobile)
		for _, p := range pages {
			b.do("open "+p.name, chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.CSS(p.wait)))
			// Lazy images load as they near the screen: scroll through the page first.
			evalJS[bool](b, `(() => { window.scrollTo(0, document.body.scrollHeight); return true })()`)
			b.waitJS("images loaded", `[...document.images].every(i => i.complete && i.naturalWidth > 0)`)
			evalJS[bool](b, `(() => { window.scrollTo(0, 0); return true })()`)
			if overflow := evalJS[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`); overflow {
				t.Errorf("%s on a %s is wider than the screen", p.name, device.name)
			}
			b.shot(p.name + "-" + device.name)
			if p.name == "site-photo" && device.mobile {
				// The phone takes a resized copy from srcset, not the 2400-pixel original.
				if src := evalJS[string](b, `document.querySelector("img.u-photo").currentSrc`); src == photoURL || src == "" {
					t.Errorf("the phone loaded %q, want a resized copy", src)
				}
			}
		}
	}
	if broken := evalJS[int](b, `[...document.images].filter(i => i.naturalWidth === 0).length`); broken > 0 {
		t.Errorf("%d images did not load on the last page", broken)
	}
	if got := problems(); len(got) > 0 {
		t.Errorf("the pages reported problems:\n%s", strings.Join(got, "\n"))
	}
}
