"""The mailbox page: every email (HTML in a sandboxed frame, attachments as links) and every SMS
the simulator received. Rendered with textContent only: subjects and messages come from callers."""

MAILBOX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulator mailbox</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f5f4; color: #1d2320; }
  header { background: #0b5cad; color: #fff; padding: 12px 20px; }
  header h1 { font-size: 18px; margin: 0; }
  header a { color: #fff; }
  main { display: grid; grid-template-columns: minmax(300px, 420px) 1fr; gap: 20px;
         padding: 20px; }
  section { background: #fff; border-radius: 10px; padding: 16px;
            box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h2 { font-size: 15px; margin: 0 0 12px; }
  .item { border-bottom: 1px solid #e4e8e6; padding: 8px 0; cursor: pointer; }
  .muted { color: #66706b; font-size: 12px; }
  iframe { width: 100%; height: 480px; border: 1px solid #d0d7d3; border-radius: 6px; }
  pre { white-space: pre-wrap; }
</style>
</head>
<body>
<header><h1>Simulator mailbox &middot; <a href="/">virtual phone</a></h1></header>
<main>
  <section>
    <h2>Emails</h2><div id="emails"></div>
    <h2>SMS</h2><div id="sms"></div>
  </section>
  <section>
    <h2 id="subject">Pick an email</h2>
    <p class="muted" id="meta"></p>
    <div id="attachments"></div>
    <iframe id="frame" sandbox title="email body"></iframe>
    <pre id="text"></pre>
  </section>
</main>
<script>
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}
function show(email) {
  document.getElementById("subject").textContent = email.subject;
  document.getElementById("meta").textContent =
    "to " + email.recipients.join(", ") + " from " + email.sender + " at " + email.received_at;
  const links = document.getElementById("attachments");
  links.replaceChildren();
  for (const a of email.attachments) {
    const link = el("a", a.filename + " (" + a.content_type + ", " + a.size + " bytes)");
    link.href = a.url;
    links.append(link, el("br"));
  }
  document.getElementById("frame").src = "/simulator/emails/" + email.id + "/html";
  document.getElementById("text").textContent = email.text;
}
async function refresh() {
  const emails = (await (await fetch("/simulator/emails")).json()).emails;
  const list = document.getElementById("emails");
  list.replaceChildren();
  for (const e of emails) {
    const item = el("div", undefined, "item");
    item.append(el("div", e.subject), el("div", e.recipients.join(", ") + " · " + e.received_at,
      "muted"));
    item.onclick = () => show(e);
    list.append(item);
  }
  const sms = (await (await fetch("/simulator/sms")).json()).messages;
  const box = document.getElementById("sms");
  box.replaceChildren();
  for (const m of sms) {
    const item = el("div", undefined, "item");
    item.append(el("div", m.message), el("div", m.to + " · " + m.status + " · " +
      (m.delivery_status || "no report yet") + " · " + m.sent_at, "muted"));
    box.append(item);
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
"""
