import JSON

/// The documentation page, made from the spec when Kairos starts: operations grouped by tag,
/// each with its parameters, body schema and example, a form that sends the request from the
/// browser (with the API token, if one is entered) and shows the answer, and the equivalent curl
/// command, kept up to date as the form changes. One self-contained page: its CSS and script are
/// inline and nothing is loaded from elsewhere. They carry ``nonceMark``, which each response
/// replaces with the nonce its Content-Security-Policy allows, so no other script can run.
struct DocsPage {
    let spec: JSONValue

    /// Stands where each response's nonce goes.
    static let nonceMark = "__KAIROS_CSP_NONCE__"

    var html: String {
        let title = Self.escaped(spec["info"]?["title"]?.stringValue ?? "API")
        let version = Self.escaped(spec["info"]?["version"]?.stringValue ?? "")
        var body = "<header><h1>\(title) <small>\(version)</small></h1>"
        body += "<p>\(Self.prose(spec["info"]?["description"]?.stringValue ?? ""))</p>"
        body += """
            <label class="token">API token <input id="token" type="password" autocomplete="off" placeholder="sent as auth-token when set"></label>
            <p class="links"><a href="../openapi.yaml">openapi.yaml</a> · <a href="../openapi.json">openapi.json</a></p></header>
            """
        for (tag, operations) in groupedOperations() {
            body += "<section><h2 id=\"tag-\(Self.escaped(tag.name))\">\(Self.escaped(tag.name))</h2>"
            if !tag.description.isEmpty { body += "<p>\(Self.prose(tag.description))</p>" }
            for operation in operations { body += self.operation(operation) }
            body += "</section>"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) API</title><style nonce="\(Self.nonceMark)">\(Self.css)</style></head>
            <body>\(body)<script nonce="\(Self.nonceMark)">\(Self.script)</script></body></html>
            """
    }

    struct Tag {
        var name: String
        var description: String
    }

    struct Operation {
        var method: String
        var path: String
        var item: JSONObject
        var pathParameters: [JSONValue]
        var id: String { item["operationId"]?.stringValue ?? "\(method)-\(path)" }
    }

    /// Operations under each tag, tags in the spec's order, operations in path order.
    func groupedOperations() -> [(Tag, [Operation])] {
        let tags = (spec["tags"]?.arrayValue ?? []).map {
            Tag(name: $0["name"]?.stringValue ?? "", description: $0["description"]?.stringValue ?? "")
        }
        var operations: [Operation] = []
        for (path, item) in spec["paths"]?.objectValue ?? [:] {
            guard let item = item.objectValue else { continue }
            for method in APISpecification.methods {
                guard let operation = item[method]?.objectValue else { continue }
                operations.append(Operation(
                    method: method.uppercased(), path: path, item: operation, pathParameters: item["parameters"]?.arrayValue ?? []))
            }
        }
        var groups = tags.map { tag in (tag, operations.filter { $0.item["tags"]?.arrayValue?.first?.stringValue == tag.name }) }
        let untagged = operations.filter { operation in !tags.contains { $0.name == operation.item["tags"]?.arrayValue?.first?.stringValue } }
        if !untagged.isEmpty { groups.append((Tag(name: "other", description: ""), untagged)) }
        return groups.filter { !$0.1.isEmpty }
    }

    private func operation(_ operation: Operation) -> String {
        let id = Self.escaped(operation.id)
        let open = (operation.item["security"]?.arrayValue?.isEmpty == true) ? " <span class=\"open\">no token needed</span>" : ""
        var html = """
            <details class="operation" id="op-\(id)"><summary><span class="method \(operation.method.lowercased())">\(operation.method)</span>
            <code>\(Self.escaped(operation.path))</code> \(Self.prose(operation.item["summary"]?.stringValue ?? ""))\(open)</summary>
            <form data-method="\(operation.method)" data-path="\(Self.escaped(operation.path))">
            """
        if let description = operation.item["description"]?.stringValue { html += "<p>\(Self.prose(description))</p>" }
        let parameters = (operation.pathParameters + (operation.item["parameters"]?.arrayValue ?? [])).map(resolved)
        if !parameters.isEmpty {
            html += "<h4>Parameters</h4><table>"
            for parameter in parameters {
                let name = Self.escaped(parameter["name"]?.stringValue ?? "")
                let place = Self.escaped(parameter["in"]?.stringValue ?? "")
                let required = parameter["required"]?.boolValue == true
                let schema = resolved(parameter["schema"] ?? .null)
                let hint = schema["enum"]?.arrayValue.map { $0.compactMap(\.stringValue).joined(separator: " | ") }
                    ?? schema["type"]?.stringValue ?? ""
                html += """
                    <tr><td><code>\(name)</code>\(required ? " <b>*</b>" : "")</td><td>\(place)</td>
                    <td><input name="\(name)" data-in="\(place)" placeholder="\(Self.escaped(hint))"\(required ? " required" : "")></td>
                    <td>\(Self.prose(parameter["description"]?.stringValue ?? ""))</td></tr>
                    """
            }
            html += "</table>"
        }
        if let content = resolved(operation.item["requestBody"] ?? .null)["content"]?["application/json"] {
            let example = content["examples"]?.objectValue?.values.first?["value"] ?? content["example"]
            html += "<h4>Body</h4><textarea name=\"body\" rows=\"8\" spellcheck=\"false\">"
            html += Self.escaped(example?.serialized(.pretty) ?? "{}") + "</textarea>"
            html += "<details class=\"schema\"><summary>body schema</summary><pre>"
            html += Self.escaped(expanded(content["schema"] ?? .null, depth: 0).serialized(.pretty)) + "</pre></details>"
        }
        let statuses = (operation.item["responses"]?.objectValue?.keys ?? []).joined(separator: ", ")
        html += """
            <p class="statuses">Answers: \(Self.escaped(statuses))</p>
            <pre class="curl"></pre><button type="submit">Try it</button>
            <div class="result" hidden><p class="status"></p><pre class="response"></pre></div></form></details>
            """
        return html
    }

    /// `value` with a `$ref` at its top followed, once.
    private func resolved(_ value: JSONValue) -> JSONValue {
        guard let reference = value["$ref"]?.stringValue, reference.hasPrefix("#/") else { return value }
        return reference.dropFirst(2).split(separator: "/").reduce(spec as JSONValue?) { node, key in node?[String(key)] } ?? value
    }

    /// A schema with its references written in, a few levels deep, for people to read.
    private func expanded(_ schema: JSONValue, depth: Int) -> JSONValue {
        guard depth < 4 else { return schema }
        switch schema {
        case .object(let object):
            if object["$ref"] != nil { return expanded(resolved(schema), depth: depth + 1) }
            return .object(JSONObject(object.map { ($0.key, expanded($0.value, depth: depth)) }))
        case .array(let elements):
            return .array(elements.map { expanded($0, depth: depth) })
        default:
            return schema
        }
    }

    static func escaped(_ text: String) -> String {
        // By scalar, not Character: `"` followed by a combining mark is one Character, and must
        // still be escaped.
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Escaped text with Markdown's `code` spans kept as code.
    static func prose(_ text: String) -> String {
        let parts = escaped(text).split(separator: "`", omittingEmptySubsequences: false)
        return parts.enumerated().map { index, part in index % 2 == 1 ? "<code>\(part)</code>" : String(part) }.joined()
    }

    static let css = """
        body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
        h1 small{font-weight:normal;color:#68737d;font-size:.6em} h2{margin-top:2rem;border-bottom:1px solid #d8dee4}
        code,pre,textarea,input{font-family:ui-monospace,Menlo,monospace;font-size:13px}
        .token input{width:22rem;margin-left:.5rem} .links{color:#68737d}
        details.operation{border:1px solid #d8dee4;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
        details.operation>summary{cursor:pointer} .open{color:#1a7f37;font-size:.85em}
        .method{display:inline-block;min-width:4.5rem;font-weight:bold;font-family:ui-monospace,monospace}
        .get{color:#0969da} .post{color:#1a7f37} .put{color:#9a6700} .delete{color:#cf222e}
        table{border-collapse:collapse} td{padding:.2rem .5rem;vertical-align:top} td input{width:16rem}
        textarea{width:100%;box-sizing:border-box} pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap}
        .statuses{color:#68737d} button{padding:.3rem 1rem;cursor:pointer}
        .status.ok{color:#1a7f37} .status.bad{color:#cf222e}
        """

    /// Builds the URL and the curl command from each form, sends it with fetch, shows the answer.
    static let script = #"""
        (function () {
          var token = document.getElementById('token');
          token.value = sessionStorage.getItem('kairos-token') || '';
          function quote(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }
          function request(form) {
            var path = form.dataset.path, query = [], headers = {};
            form.querySelectorAll('input[data-in]').forEach(function (input) {
              if (input.value === '') return;
              if (input.dataset.in === 'path') path = path.replace('{' + input.name + '}', encodeURIComponent(input.value));
              else if (input.dataset.in === 'query') query.push(encodeURIComponent(input.name) + '=' + encodeURIComponent(input.value));
              else if (input.dataset.in === 'header') headers[input.name] = input.value;
            });
            if (token.value) headers['auth-token'] = token.value;
            var body = form.querySelector('textarea[name=body]');
            if (body) headers['Content-Type'] = 'application/json';
            return {method: form.dataset.method, url: path + (query.length ? '?' + query.join('&') : ''),
                    headers: headers, body: body ? body.value : undefined};
          }
          function curl(form) {
            var r = request(form), parts = ['curl -X ' + r.method, quote(location.origin + r.url)];
            Object.keys(r.headers).forEach(function (name) { parts.push('-H ' + quote(name + ': ' + r.headers[name])); });
            if (r.body !== undefined) parts.push('--data-raw ' + quote(r.body));
            form.querySelector('.curl').textContent = parts.join(' \\\n     ');
          }
          var forms = document.querySelectorAll('form[data-method]');
          forms.forEach(function (form) {
            curl(form);
            form.addEventListener('input', function () { curl(form); });
            form.addEventListener('submit', function (event) {
              event.preventDefault();
              var r = request(form), result = form.querySelector('.result'), status = form.querySelector('.status');
              fetch(r.url, {method: r.method, headers: r.headers, body: r.body}).then(function (response) {
                return response.text().then(function (text) {
                  result.hidden = false;
                  status.textContent = response.status + ' ' + response.statusText;
                  status.className = 'status ' + (response.ok ? 'ok' : 'bad');
                  try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
                  form.querySelector('.response').textContent = text;
                });
              }).catch(function (error) {
                result.hidden = false; status.textContent = 'request failed: ' + error; status.className = 'status bad';
              });
            });
          });
          token.addEventListener('input', function () {
            sessionStorage.setItem('kairos-token', token.value);
            forms.forEach(curl);
          });
        })();
        """#
}
