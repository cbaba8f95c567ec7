package micropub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/micropubd/micropubd"
)

// Limits bound what a request may make the server read.
type Limits struct {
	// Body is the largest form-encoded or JSON body.
	Body int64
	// Upload is the largest multipart body, files included, and the largest file. The text
	// fields of a multipart body are held to Body.
	Upload int64
}

// Limits on the shape of a post, whatever the request's encoding: they keep one post from
// costing every later reader (a page with 100,000 categories, objects nested hundreds deep)
// more than any real post does.
const (
	// MaxProperties is the most properties a post, and each object nested in it, may have.
	MaxProperties = 100
	// MaxValues is the most values one property may have.
	MaxValues = 256
	// MaxDepth is how deep objects may nest in a post: an h-card in an h-cite in a post is 2.
	MaxDepth = 32
)

// errTooDeep is the answer to objects nested beyond MaxDepth.
func errTooDeep() *Error {
	return errInvalid("objects are nested more than %d levels deep; the limit is %d", MaxDepth, MaxDepth)
}

// CheckShape checks props against MaxProperties, MaxValues and MaxDepth.
func CheckShape(props micropubd.Properties) error { return checkShape(props, "the post", 0) }

func checkShape(props micropubd.Properties, what string, depth int) error {
	if depth > MaxDepth {
		return errTooDeep()
	}
	if len(props) > MaxProperties {
		return errInvalid("%s has %d properties; the limit is %d properties per post and per nested object", what, len(props), MaxProperties)
	}
	for name, vals := range props {
		if len(vals) > MaxValues {
			return errInvalid("%s has %d values; the limit is %d values per property", name, len(vals), MaxValues)
		}
		for _, v := range vals {
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			nested, ok := obj["properties"].(map[string]any)
			if !ok {
				continue
			}
			inner := make(micropubd.Properties, len(nested))
			for k, list := range nested {
				inner[k], _ = list.([]any)
			}
			if err := checkShape(inner, "an object in "+name, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// DefaultLimits are used where a Limits value is zero.
var DefaultLimits = Limits{Body: 1 << 20, Upload: 100 << 20}

// WithDefaults returns l with DefaultLimits where it is zero.
func (l Limits) WithDefaults() Limits {
	if l.Body <= 0 {
		l.Body = DefaultLimits.Body
	}
	if l.Upload <= 0 {
		l.Upload = DefaultLimits.Upload
	}
	return l
}

// FileReceiver takes the file parts of a multipart request as they arrive, so that a file is
// written once, straight to where it will be stored. fields are the text fields the body
// carried before the file (an access_token, a form's csrf): the receiver authorises before it
// stores a byte.
type FileReceiver interface {
	ReceiveFile(r io.Reader, fields map[string][]string) (Upload, error)
}

// ParseRequest reads a Micropub POST body (form-encoded, multipart or JSON) into a Request.
// It does not look at storage or tokens; file parts go to files (nil refuses them). On error,
// files received so far are discarded.
func ParseRequest(w http.ResponseWriter, r *http.Request, limits Limits, files FileReceiver) (*Request, error) {
	limits = limits.WithDefaults()
	query := ActionQuery(r)
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Header.Get("Content-Type") == "" && query.Get("action") != "" {
		// POST /micropub?action=delete&url=... with no body, as the Micro.blog app sends it.
		mediaType, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return nil, errInvalid("the request needs a Content-Type: application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		body, err := ReadBody(w, r, limits.Body, query.Has("action"))
		if err != nil {
			return nil, err
		}
		values, err := ParseFormBody(body)
		if err != nil {
			return nil, err
		}
		return parseForm(fillFromQuery(lineFeeds(values), query), nil)
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, limits.Upload)
		values, uploads, err := readMultipart(r, limits, files)
		if err != nil {
			return nil, err
		}
		req, err := parseForm(fillFromQuery(lineFeeds(values), query), uploads)
		if err != nil {
			discardFiles(uploads)
			return nil, err
		}
		return req, nil
	case "application/json":
		body, err := ReadBody(w, r, limits.Body, query.Has("action"))
		if err != nil {
			return nil, err
		}
		return parseJSON(body, query)
	default:
		return nil, errInvalid("unsupported Content-Type %q: send application/x-www-form-urlencoded, multipart/form-data or application/json", mediaType)
	}
}

// lineFeeds turns the CR LF line ends browsers send in form fields into LF, so that saving a
// text area unchanged changes nothing.
func lineFeeds(values map[string][]string) map[string][]string {
	for _, vs := range values {
		for i, v := range vs {
			if strings.Contains(v, "\r") {
				vs[i] = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
			}
		}
	}
	return values
}

// ParseFormBody reads a form-encoded body. Only & separates fields: a ; is part of a value, as
// the WHATWG URL standard says (Go's url.ParseQuery refuses it), so that
// location=geo:45.5,-122.6;u=35 typed into curl works.
func ParseFormBody(body []byte) (url.Values, error) {
	values, err := url.ParseQuery(strings.ReplaceAll(string(body), ";", "%3B"))
	if err != nil {
		return nil, errInvalid("the form-encoded body is malformed: %v", err)
	}
	return values, nil
}

// ActionQuery returns the action, url and alt a POST carries in its query string, which
// clients such as the Micro.blog app use instead of the body. Nothing else is read from it.
func ActionQuery(r *http.Request) url.Values {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		if (k == "action" || k == "url" || k == "alt") && len(v) > 0 {
			q.Set(k, v[0])
		}
	}
	return q
}

// fillFromQuery takes the action, and the url of an action other than create, from the query
// string where the body does not carry them.
func fillFromQuery(values map[string][]string, query url.Values) map[string][]string {
	if _, ok := values["action"]; !ok && query.Has("action") {
		values["action"] = []string{query.Get("action")}
	}
	if a := values["action"]; len(a) > 0 && a[0] != ActionCreate {
		if _, ok := values["url"]; !ok && query.Has("url") {
			values["url"] = []string{query.Get("url")}
		}
	}
	return values
}

// readMultipart streams a multipart body: text fields, up to the body limit in all, into
// values; file parts, one by one, to files.
func readMultipart(r *http.Request, limits Limits, files FileReceiver) (map[string][]string, []File, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errInvalid("the multipart body is malformed: %v", err)
	}
	values := map[string][]string{}
	var uploads []File
	fail := func(err error) (map[string][]string, []File, error) {
		discardFiles(uploads)
		return nil, nil, err
	}
	text := int64(0)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return values, uploads, nil
		}
		if err != nil {
			return fail(ReadError(err, limits.Upload))
		}
		name := part.FormName()
		if name == "" || part.FileName() == "" {
			// Text fields, and parts without a name (read only to be skipped), count against
			// the body limit: a stream of nameless parts is no way round it.
			data, err := io.ReadAll(io.LimitReader(part, limits.Body-text+1))
			if err != nil {
				return fail(ReadError(err, limits.Upload))
			}
			text += int64(len(data))
			if text > limits.Body {
				return fail(TooLarge("the text fields of the request", limits.Body, BodyLimitFlag))
			}
			if name != "" {
				values[name] = append(values[name], string(data))
			}
			continue
		}
		prop, path, err := splitFieldName(name)
		if err != nil {
			return fail(err)
		}
		if len(path) > 0 || prop == "h" || prop == "action" || prop == "access_token" || prop == CSRFField || strings.HasPrefix(prop, "mp-") {
			return fail(errInvalid("a file was sent in the field %q, which cannot hold a file", name))
		}
		if files == nil {
			return fail(errInvalid("files are not accepted here"))
		}
		u, err := files.ReceiveFile(part, values)
		if err != nil {
			return fail(err)
		}
		uploads = append(uploads, File{Property: prop, Filename: part.FileName(), Upload: u})
	}
}

func discardFiles(files []File) {
	for _, f := range files {
		f.Upload.Discard()
	}
}

// The server flags that set the limits, named in 413 answers so that the owner knows what to
// change.
const (
	BodyLimitFlag   = "--body-limit (MICROPUBD_BODY_LIMIT)"
	UploadLimitFlag = "--upload-limit (MICROPUBD_UPLOAD_LIMIT)"
)

// TooLarge is the 413 answer for what went over a limit set with flag.
func TooLarge(what string, limit int64, flag string) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
		Description: fmt.Sprintf("%s is larger than the limit of %s, set with the server's %s", what, megabytes(limit), flag)}
}

// ReadError turns a failed read of a multipart request body into an answer: 413 when the body
// hit its size limit, which is the upload limit.
func ReadError(err error, uploadLimit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return TooLarge("the request", uploadLimit, UploadLimitFlag)
	}
	return errInvalid("the upload could not be read: %v", err)
}

// megabytes writes a size in MB (of 1024 KB), to two decimals at most.
func megabytes(n int64) string {
	return strconv.FormatFloat(math.Round(float64(n)/(1<<20)*100)/100, 'f', -1, 64) + " MB"
}

// ReadBody reads a form-encoded or JSON body; an empty one is an error unless allowEmpty (the
// request carries its action in its query string).
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64, allowEmpty bool) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, TooLarge("the request body", limit, BodyLimitFlag)
	}
	if err != nil {
		return nil, errInvalid("the request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil, nil
		}
		return nil, errInvalid("the request body is empty")
	}
	if !utf8.Valid(body) {
		return nil, errInvalid("the request body is not valid UTF-8")
	}
	return body, nil
}

// parseForm turns form fields (and multipart files) into a Request, following the
// Recommendation's form-encoded rules and the bracket syntax clients use for nested values.
func parseForm(values map[string][]string, files []File) (*Request, error) {
	if a := values["action"]; len(a) == 1 && a[0] == ActionUpdate {
		if len(files) > 0 {
			return nil, errInvalid("an update takes no files: upload them to the media endpoint and use their URLs")
		}
		return parseFormUpdate(values)
	}
	req := &Request{Properties: micropubd.Properties{}, Commands: map[string][]any{}, Form: textFields(values)}
	nested := map[string]any{}
	var nestedOrder []string

	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		vals := values[key]
		if !utf8.ValidString(key) {
			return nil, errInvalid("a field name is not valid UTF-8")
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return nil, errInvalid("the value of %q is not valid UTF-8", key)
			}
		}
		name, path, err := splitFieldName(key)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "access_token":
			if err := setAccessToken(req, vals); err != nil {
				return nil, err
			}
		case name == CSRFField:
			req.CSRF = vals[0]
		case name == "h":
			if len(vals) != 1 || !validType("h-"+strings.TrimPrefix(strings.TrimSpace(vals[0]), "h-")) {
				return nil, errInvalid("h must name one microformats type, e.g. h=entry")
			}
			req.Type = []string{"h-" + strings.TrimPrefix(strings.TrimSpace(vals[0]), "h-")}
		case name == "action":
			if len(vals) != 1 {
				return nil, errInvalid("action must have one value")
			}
			req.Action = vals[0]
		case strings.HasPrefix(name, "mp-"):
			for _, v := range vals {
				req.Commands[name] = append(req.Commands[name], v)
			}
		case len(path) > 0:
			// name[a][b]=v: collect into a tree, turned into a value once all fields are read.
			if _, ok := nested[name]; !ok {
				nestedOrder = append(nestedOrder, name)
				nested[name] = map[string]any{}
			}
			if err := setNested(nested[name].(map[string]any), path, vals); err != nil {
				return nil, errInvalid("%s: %v", key, err)
			}
		default:
			// An empty field is a form input left blank, not a value: in-reply-to= or
			// photo= would otherwise make a reply to nothing or an image of nothing.
			for _, v := range vals {
				if strings.TrimSpace(v) != "" {
					req.Properties[name] = append(req.Properties[name], v)
				}
			}
		}
	}
	for _, name := range nestedOrder {
		v, err := nestedValue(nested[name].(map[string]any))
		if err != nil {
			return nil, errInvalid("%s: %v", name, err)
		}
		req.Properties[name] = append(req.Properties[name], v)
	}

	req.Files = files
	return req, finishForm(req)
}

func finishForm(req *Request) error {
	if req.Action == "" {
		req.Action = ActionCreate
	}
	switch req.Action {
	case ActionCreate:
		if len(req.Type) == 0 {
			req.Type = []string{"h-entry"}
		}
		if len(req.Properties) == 0 && len(req.Files) == 0 {
			return errInvalid("the request has no properties to create a post from")
		}
	case ActionDelete, ActionUndelete:
		u := req.Properties["url"]
		if len(u) != 1 || u[0] == "" {
			return errInvalid("%s needs the url of the post", req.Action)
		}
		req.URL = u[0].(string)
		delete(req.Properties, "url")
		if len(req.Properties) > 0 || len(req.Files) > 0 {
			return errInvalid("%s takes only a url", req.Action)
		}
	default:
		return errInvalid("unknown action %q", req.Action)
	}
	return nil
}

func setAccessToken(req *Request, vals []string) error {
	for _, v := range vals {
		if req.AccessToken != "" && v != req.AccessToken {
			return errInvalid("the body carries more than one access_token")
		}
		req.AccessToken = v
	}
	return nil
}

// textFields copies a form's fields for showing the form again, credentials left out.
func textFields(values map[string][]string) url.Values {
	out := make(url.Values, len(values))
	for k, v := range values {
		if k != "access_token" && k != CSRFField {
			out[k] = v
		}
	}
	return out
}

// parseFormUpdate reads an update sent as a form, as HTML forms can (an extension: the
// Recommendation has updates in JSON only): url; replace[PROPERTY] and add[PROPERTY] with one
// or more values (replace[content][html] or [markdown] for an object); delete=PROPERTY, or
// delete[PROPERTY]=VALUE for one value; mp-* commands. A replace whose fields are all blank
// removes the property, as clearing a form field means.
func parseFormUpdate(values map[string][]string) (*Request, error) {
	req := &Request{Action: ActionUpdate, Replace: micropubd.Properties{}, Add: micropubd.Properties{},
		DeleteValues: micropubd.Properties{}, Commands: map[string][]any{}, Form: textFields(values)}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		vals := values[key]
		name, path, err := splitFieldName(key)
		if err != nil {
			return nil, err
		}
		for _, v := range append([]string{key}, vals...) {
			if !utf8.ValidString(v) {
				return nil, errInvalid("the field %q is not valid UTF-8", key)
			}
		}
		switch {
		case name == "action":
		case name == "url" && len(path) == 0:
			if len(vals) != 1 {
				return nil, errInvalid("an update names one url")
			}
			req.URL = vals[0]
		case name == "access_token":
			if err := setAccessToken(req, vals); err != nil {
				return nil, err
			}
		case name == CSRFField:
			req.CSRF = vals[0]
		case strings.HasPrefix(name, "mp-"):
			for _, v := range vals {
				req.Commands[name] = append(req.Commands[name], v)
			}
		case (name == "replace" || name == "add") && (len(path) == 1 || len(path) == 2 && objectKey(path[1])):
			if !propName.MatchString(path[0]) {
				return nil, errInvalid("%q is not a property name", path[0])
			}
			target := req.Replace
			if name == "add" {
				target = req.Add
			}
			list := target[path[0]]
			if list == nil {
				list = []any{}
			}
			for _, v := range vals {
				switch {
				case strings.TrimSpace(v) == "":
				case len(path) == 2:
					list = append(list, map[string]any{path[1]: v})
				default:
					list = append(list, v)
				}
			}
			if name == "add" && len(list) == 0 {
				continue
			}
			target[path[0]] = list
		case name == "delete" && len(path) == 0:
			for _, v := range vals {
				if v = strings.TrimSpace(v); v != "" {
					req.DeleteProps = append(req.DeleteProps, v)
				}
			}
		case name == "delete" && len(path) == 1:
			for _, v := range vals {
				if strings.TrimSpace(v) != "" {
					req.DeleteValues[path[0]] = append(req.DeleteValues[path[0]], v)
				}
			}
		default:
			return nil, errInvalid("a form update takes url, replace[PROPERTY], add[PROPERTY], delete and mp- commands, not %q", key)
		}
	}
	if req.URL == "" {
		return nil, errInvalid("an update needs the url of the post")
	}
	if len(req.Replace["photo"]) > 0 {
		if err := applyPhotoAlt(req.Replace, req.Commands["mp-photo-alt"]); err != nil {
			return nil, err
		}
		delete(req.Commands, "mp-photo-alt")
	}
	return req, nil
}

// objectKey is the second part of replace[content][html]: the kinds of object a form can write.
func objectKey(k string) bool { return k == "html" || k == "markdown" || k == "value" }

// propName is the shape of a microformats property name.
var propName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// splitFieldName splits "name[a][b]" into "name" and ["a", "b"]; "name[]" has no path.
func splitFieldName(key string) (string, []string, error) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return key, nil, nil
	}
	name, rest := key[:i], key[i:]
	if name == "" {
		return "", nil, errInvalid("the field name %q has no name before its brackets", key)
	}
	var path []string
	for rest != "" {
		if len(path) >= 2*MaxDepth+1 {
			// Each level of a nested object takes two brackets: [properties][name].
			return "", nil, errTooDeep()
		}
		if rest[0] != '[' {
			return "", nil, errInvalid("the field name %q is malformed", key)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", nil, errInvalid("the field name %q has an unclosed bracket", key)
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	if len(path) > 0 && path[len(path)-1] == "" {
		path = path[:len(path)-1] // a trailing [] only says "array"
	}
	for _, seg := range path {
		if seg == "" {
			return "", nil, errInvalid("the field name %q has an empty bracket inside it", key)
		}
	}
	return name, path, nil
}

// setNested stores vals in tree under path; leaves are []string.
func setNested(tree map[string]any, path []string, vals []string) error {
	for i, seg := range path {
		if i == len(path)-1 {
			if existing, ok := tree[seg]; ok {
				leaf, isLeaf := existing.([]string)
				if !isLeaf {
					return errors.New("a value and an object share one name")
				}
				tree[seg] = append(leaf, vals...)
				return nil
			}
			tree[seg] = append([]string(nil), vals...)
			return nil
		}
		next, ok := tree[seg]
		if !ok {
			next = map[string]any{}
			tree[seg] = next
		}
		sub, ok := next.(map[string]any)
		if !ok {
			return errors.New("a value and an object share one name")
		}
		tree = sub
	}
	return nil
}

// nestedValue turns a bracket tree into a property value: a microformats object when it has
// type or properties (weight[type]=h-measure&weight[properties][num]=155.73), otherwise an
// object of single values such as content[html]= or photo[value]=&photo[alt]=.
func nestedValue(tree map[string]any) (any, error) {
	_, hasType := tree["type"]
	_, hasProps := tree["properties"]
	if hasType || hasProps {
		item := map[string]any{}
		types, ok := tree["type"].([]string)
		if !ok || len(types) == 0 {
			return nil, errors.New("a nested object needs a type, e.g. [type]=h-card")
		}
		ts := make([]any, len(types))
		for i, t := range types {
			ts[i] = "h-" + strings.TrimPrefix(t, "h-")
		}
		item["type"] = ts
		props := map[string]any{}
		if hasProps {
			sub, ok := tree["properties"].(map[string]any)
			if !ok {
				return nil, errors.New("[properties] must hold named values")
			}
			for k, v := range sub {
				switch v := v.(type) {
				case []string:
					list := make([]any, len(v))
					for i, s := range v {
						list[i] = s
					}
					props[k] = list
				case map[string]any:
					nv, err := nestedValue(v)
					if err != nil {
						return nil, err
					}
					props[k] = []any{nv}
				}
			}
		}
		item["properties"] = props
		for k := range tree {
			if k != "type" && k != "properties" {
				return nil, fmt.Errorf("a nested object has only type and properties, not %q", k)
			}
		}
		return item, nil
	}
	obj := map[string]any{}
	for k, v := range tree {
		leaf, ok := v.([]string)
		if !ok || len(leaf) != 1 {
			return nil, fmt.Errorf("[%s] must have exactly one value", k)
		}
		obj[k] = leaf[0]
	}
	return obj, nil
}

// parseJSON reads a JSON Micropub request: a create in microformats2 JSON, or an action.
// The action and url may come from the query string instead (see ActionQuery).
func parseJSON(body []byte, query url.Values) (*Request, error) {
	doc := map[string]any{}
	if len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, errInvalid("the JSON body is malformed: %v", err)
		}
		if dec.More() {
			return nil, errInvalid("the JSON body has data after its object")
		}
		if doc == nil {
			return nil, errInvalid("the JSON body must be an object")
		}
	}
	if _, ok := doc["action"]; !ok && query.Has("action") {
		doc["action"] = query.Get("action")
	}
	if a, _ := doc["action"].(string); a != "" && a != ActionCreate {
		if _, ok := doc["url"]; !ok && query.Has("url") {
			doc["url"] = query.Get("url")
		}
	}
	req := &Request{Commands: map[string][]any{}}
	if a, ok := doc["action"]; ok {
		s, ok := a.(string)
		if !ok {
			return nil, errInvalid("action must be a string")
		}
		req.Action = s
	} else {
		req.Action = ActionCreate
	}
	if req.Action != ActionCreate {
		u, ok := doc["url"].(string)
		if !ok || u == "" {
			return nil, errInvalid("%s needs the url of the post as a string", req.Action)
		}
		req.URL = u
	}
	switch req.Action {
	case ActionCreate:
		return req, parseJSONCreate(req, doc)
	case ActionUpdate:
		return req, parseJSONUpdate(req, doc)
	case ActionDelete, ActionUndelete:
		for k := range doc {
			if k != "action" && k != "url" {
				return nil, errInvalid("%s takes only action and url, not %q", req.Action, k)
			}
		}
		return req, nil
	default:
		return nil, errInvalid("unknown action %q", req.Action)
	}
}

func parseJSONCreate(req *Request, doc map[string]any) error {
	types := []string{"h-entry"} // as for forms, a create without a type makes an entry
	if raw, ok := doc["type"]; ok {
		var err error
		if types, err = stringList(raw); err != nil || len(types) == 0 {
			return errInvalid(`"type" must be a list of microformats types, e.g. ["h-entry"]`)
		}
	}
	for _, t := range types {
		if !validType(t) {
			return errInvalid("type %q is not a microformats root type such as h-entry", t)
		}
	}
	req.Type = types
	rawProps, ok := doc["properties"].(map[string]any)
	if !ok {
		return errInvalid(`a JSON create needs "properties" as an object`)
	}
	req.Properties = micropubd.Properties{}
	for name, raw := range rawProps {
		vals, err := propertyValues(name, raw, true)
		if err != nil {
			return err
		}
		if strings.HasPrefix(name, "mp-") {
			req.Commands[name] = vals
			continue
		}
		req.Properties[name] = vals
	}
	if len(req.Properties) == 0 {
		return errInvalid("the request has no properties to create a post from")
	}
	return nil
}

func parseJSONUpdate(req *Request, doc map[string]any) error {
	for k, v := range doc {
		switch {
		case k == "action" || k == "url" || k == "replace" || k == "add" || k == "delete":
		case strings.HasPrefix(k, "mp-"):
			// Commands at the top level, as Micropublish sends them ("mp-syndicate-to": [],
			// "mp-slug": "new"), act as they do on a create.
			vals, err := propertyValues(k, v, true)
			if err != nil {
				return err
			}
			req.Commands[k] = vals
		default:
			return errInvalid("an update takes replace, add and delete (and mp-* commands), not %q", k)
		}
	}
	var err error
	if req.Replace, err = operation("replace", doc["replace"]); err != nil {
		return err
	}
	if req.Add, err = operation("add", doc["add"]); err != nil {
		return err
	}
	switch del := doc["delete"].(type) {
	case nil:
		if _, present := doc["delete"]; present {
			return errInvalid("delete must be a list of property names or an object of values to remove")
		}
	case []any:
		for _, v := range del {
			name, ok := v.(string)
			if !ok || name == "" {
				return errInvalid("delete as a list must hold property names")
			}
			req.DeleteProps = append(req.DeleteProps, name)
		}
	case map[string]any:
		if req.DeleteValues, err = operation("delete", del); err != nil {
			return err
		}
	default:
		return errInvalid("delete must be a list of property names or an object of values to remove")
	}
	// An update without any operation (Micropublish saving an unchanged form) is a no-op,
	// not an error: the service answers it without writing.
	return nil
}

// operation reads an update's replace/add/delete object, where every value must be a list.
// An empty JSON array means no operation: PHP clients such as OwnYourSwarm encode an empty
// object as [].
func operation(op string, raw any) (micropubd.Properties, error) {
	if raw == nil {
		return nil, nil
	}
	if list, ok := raw.([]any); ok && len(list) == 0 {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errInvalid("%s must be an object of property names to lists of values", op)
	}
	props := micropubd.Properties{}
	for name, v := range obj {
		vals, err := propertyValues(name, v, false)
		if err != nil {
			return nil, errInvalid("%s: %s", op, err.(*Error).Description)
		}
		props[name] = vals
	}
	return props, nil
}

// propertyValues checks one property's values. Creates accept a bare value for a one-item
// list, as several clients send it; update operations must be lists, as the spec says.
func propertyValues(name string, raw any, lenient bool) ([]any, error) {
	if name == "" {
		return nil, errInvalid("a property has an empty name")
	}
	list, ok := raw.([]any)
	if !ok {
		if !lenient {
			return nil, errInvalid("the value of %q must be a list", name)
		}
		list = []any{raw}
	}
	if len(list) > MaxValues {
		return nil, errInvalid("%s has %d values; the limit is %d values per property", name, len(list), MaxValues)
	}
	for _, v := range list {
		if err := checkValue(v, 1); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, e
			}
			return nil, errInvalid("%q: %v", name, err)
		}
	}
	return list, nil
}

// checkValue accepts what microformats2 JSON allows in a property list: strings, numbers,
// booleans and objects (nested items, {"html": ...}, {"value": ..., "alt": ...}), the objects
// nested at most MaxDepth deep; depth is that of v.
func checkValue(v any, depth int) error {
	switch v := v.(type) {
	case string, json.Number, bool:
		return nil
	case map[string]any:
		if depth > MaxDepth {
			return errTooDeep()
		}
		if len(v) == 0 {
			return errors.New("an object value is empty")
		}
		if t, ok := v["type"]; ok {
			types, err := stringList(t)
			if err != nil || len(types) == 0 {
				return errors.New(`a nested object's "type" must be a list such as ["h-card"]`)
			}
			for _, x := range types {
				if !validType(x) {
					return fmt.Errorf("%q is not a microformats type such as h-card", x)
				}
			}
		}
		for _, inner := range v {
			switch inner := inner.(type) {
			case []any:
				for _, x := range inner {
					if err := checkValue(x, depth+1); err != nil {
						return err
					}
				}
			case map[string]any:
				for k, x := range inner {
					list, ok := x.([]any)
					if !ok {
						return fmt.Errorf("nested property %q must be a list", k)
					}
					for _, y := range list {
						if err := checkValue(y, depth+1); err != nil {
							return err
						}
					}
				}
			default:
				if err := checkValue(inner, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	case nil:
		return errors.New("null is not a value")
	default:
		return errors.New("a list cannot hold a list")
	}
}

// typePattern is a microformats root class name: h-entry, h-x-app.
var typePattern = regexp.MustCompile(`^h-[a-z0-9]+(-[a-z0-9]+)*$`)

func validType(t string) bool { return typePattern.MatchString(t) }

func stringList(raw any) ([]string, error) {
	switch v := raw.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("not a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New("not a list of strings")
}
