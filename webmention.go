package micropubd

import "time"

// Statuses of a received webmention.
const (
	MentionPending  = "pending"  // waiting to be verified
	MentionAccepted = "accepted" // verified: shown on the post
	MentionRejected = "rejected" // the source does not link to the target, or could not be read
	MentionGone     = "gone"     // the source answered 404 or 410: removed
	MentionDeleted  = "deleted"  // the owner deleted it: never shown again
)

// Kinds of webmention, and the post property each is kept in.
const (
	KindReply    = "reply"
	KindLike     = "like"
	KindRepost   = "repost"
	KindBookmark = "bookmark"
	KindMention  = "mention"
)

// ResponseProperty is the property of the target post a kind of webmention is kept in.
var ResponseProperty = map[string]string{
	KindReply: "comment", KindLike: "like", KindRepost: "repost", KindBookmark: "bookmark", KindMention: "mention",
}

// Webmention is a webmention received: a page (Source) that says it links to a post of this
// site (Target, which resolved to PostID).
type Webmention struct {
	ID         int64
	Source     string
	Target     string
	PostID     int64
	SourceHost string
	Status     string
	Kind       string
	// Cite is the h-cite made of the source: its url, author, content, published, name.
	Cite     map[string]any
	Error    string
	Attempts int
	Due      time.Time // when a pending webmention is verified
	Received time.Time
	Verified time.Time
}

// Statuses of a webmention to send.
const (
	SendPending = "pending" // waiting to be sent, or to be tried again
	SendSent    = "sent"    // the endpoint accepted it (2xx)
	SendNone    = "none"    // the target has no webmention endpoint
	SendFailed  = "failed"  // refused, or failed too many times
)

// WebmentionSend is a webmention this site sends, or sent, for one of its posts to a page it
// links to.
type WebmentionSend struct {
	ID       int64
	PostID   int64
	Source   string
	Target   string
	Version  string // a hash of the post it was queued for
	Status   string
	Endpoint string
	Result   string // what happened, in words: "202 Accepted", "no webmention endpoint", ...
	Title    string // the target page's title
	Attempts int
	Due      time.Time
	Done     time.Time
}
