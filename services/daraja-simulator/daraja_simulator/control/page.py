"""The virtual phone: one HTML page with a little JavaScript, no build step. It polls the control
API and renders with textContent only, because account references and SMS texts come from
callers. The SMS each number received are shown beside the prompts."""

VIRTUAL_PHONE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Daraja simulator: virtual phone</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f5f4; color: #1d2320; }
  header { background: #1a7f37; color: #fff; padding: 12px 20px; display: flex;
           align-items: center; justify-content: space-between; }
  header h1 { font-size: 18px; margin: 0; }
  main { display: grid; grid-template-columns: minmax(280px, 380px) 1fr; gap: 20px;
         padding: 20px; }
  section { background: #fff; border-radius: 10px; padding: 16px;
            box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h2 { font-size: 15px; margin: 0 0 12px; }
  .prompt { border: 1px solid #d0d7d3; border-radius: 8px; padding: 12px; margin-bottom: 12px; }
  .prompt p { margin: 0 0 8px; }
  .muted { color: #66706b; font-size: 12px; }
  button { border: 0; border-radius: 6px; padding: 6px 10px; margin-right: 6px; cursor: pointer; }
  .approve { background: #1a7f37; color: #fff; }
  .cancel { background: #d1242f; color: #fff; }
  .pin { background: #bf8700; color: #fff; }
  .ignore { background: #d0d7d3; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e8e6; }
  #error { color: #d1242f; }
</style>
</head>
<body>
<header>
  <h1>Daraja simulator &middot; virtual phone</h1>
  <label><input type="checkbox" id="auto"> customers answer automatically</label>
</header>
<main>
  <section>
    <h2>Open prompts</h2>
    <div id="prompts"><p class="muted">No prompt is waiting.</p></div>
    <p id="error"></p>
    <h2>SMS received</h2>
    <div id="sms"><p class="muted">No SMS yet.</p></div>
    <p class="muted"><a href="/mailbox">Mailbox: every email and SMS</a></p>
  </section>
  <section>
    <h2>Recent M-Pesa transactions</h2>
    <table>
      <thead><tr><th>Receipt</th><th>Completed</th><th>Phone</th><th>Amount</th>
        <th>Shortcode</th><th>Account</th></tr></thead>
      <tbody id="ledger"></tbody>
    </table>
  </section>
</main>
<script>
const ACTIONS = [["approve", "Approve", "approve"], ["cancel", "Cancel", "cancel"],
                 ["wrong-pin", "Wrong PIN", "pin"], ["ignore", "Ignore", "ignore"]];

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function call(method, url, body) {
  const options = {method, headers: {"Content-Type": "application/json"}};
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await fetch(url, options);
  if (!response.ok) throw new Error(method + " " + url + ": " + response.status);
  return response.status === 204 ? null : response.json();
}

function renderPrompts(prompts) {
  const box = document.getElementById("prompts");
  box.replaceChildren();
  if (prompts.length === 0) {
    box.append(el("p", "No prompt is waiting.", "muted"));
    return;
  }
  for (const p of prompts) {
    const card = el("div", undefined, "prompt");
    card.append(el("p", "Pay KES " + p.amount + " to " + p.party_b +
                        " (account " + p.account_reference + ")?"));
    card.append(el("p", p.phone + " · " + p.checkout_request_id +
                        (p.ignored ? " · ignored" : ""), "muted"));
    for (const [verb, label, cls] of ACTIONS) {
      const button = el("button", label, cls);
      button.onclick = () => act(p.checkout_request_id, verb);
      card.append(button);
    }
    box.append(card);
  }
}

function renderLedger(entries) {
  const body = document.getElementById("ledger");
  body.replaceChildren();
  for (const e of entries) {
    const row = el("tr");
    for (const value of [e.receipt, new Date(e.completed_at).toLocaleString(), e.phone,
                         e.amount, e.party_b, e.account_reference]) {
      row.append(el("td", String(value)));
    }
    body.append(row);
  }
}

function renderSms(messages) {
  const box = document.getElementById("sms");
  box.replaceChildren();
  if (messages.length === 0) {
    box.append(el("p", "No SMS yet.", "muted"));
    return;
  }
  for (const m of messages.slice(0, 20)) {
    const card = el("div", undefined, "prompt");
    card.append(el("p", m.message));
    card.append(el("p", m.to + " · " + (m.delivery_status || m.status) + " · " +
                        new Date(m.sent_at).toLocaleString(), "muted"));
    box.append(card);
  }
}

async function act(id, verb) {
  try {
    await call("POST", "/simulator/prompts/" + encodeURIComponent(id) + "/" + verb);
    await refresh();
  } catch (err) {
    document.getElementById("error").textContent = err.message;
  }
}

async function refresh() {
  try {
    const [prompts, ledger, behaviours, sms] = await Promise.all([
      call("GET", "/simulator/prompts"),
      call("GET", "/simulator/ledger?limit=20"),
      call("GET", "/simulator/behaviours"),
      call("GET", "/simulator/sms"),
    ]);
    renderPrompts(prompts);
    renderSms(sms.messages);
    renderLedger(ledger.entries);
    document.getElementById("auto").checked = behaviours.auto_respond;
    document.getElementById("error").textContent = "";
  } catch (err) {
    document.getElementById("error").textContent = err.message;
  }
}

document.getElementById("auto").onchange = async (event) => {
  await call("PUT", "/simulator/auto-respond", {enabled: event.target.checked});
};
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
