// The chat page: talks to this server's own OpenAI-compatible API, streaming (no libraries, no build).
"use strict";
const $ = (id) => document.getElementById(id);
let history = [];

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function bubble(cls, text) {
  const div = document.createElement("div");
  div.className = "msg " + cls;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

function statsLine(s) {
  const div = document.createElement("div");
  div.className = "stats";
  const parts = ["expert " + s.expert, s.tokens_per_s.toFixed(1) + " tok/s", "draft " + s.draft];
  if (s.drafted > 0) parts.push("acceptance " + Math.round(100 * s.acceptance_rate) + "%");
  if (s.cached_prompt_tokens > 0) parts.push(s.cached_prompt_tokens + " prompt tokens from cache");
  div.textContent = parts.join(" · ");
  $("log").appendChild(div);
}

async function errorText(resp) {
  try { return (await resp.json()).error.message; } catch (e) { return "HTTP " + resp.status; }
}

// One SSE event's data: a text piece, the runtime's account, or an error.
function handle(data, out, state) {
  if (data === "[DONE]") return;
  const chunk = JSON.parse(data);
  if (chunk.error) throw new Error(chunk.error.message);
  const choice = chunk.choices && chunk.choices[0];
  if (choice && choice.delta && choice.delta.content) {
    state.text += choice.delta.content;
    out.textContent = state.text;
  }
  if (chunk.edge_runtime) state.stats = chunk.edge_runtime;
}

async function send(prompt) {
  history.push({ role: "user", content: prompt });
  bubble("user", prompt);
  const out = bubble("assistant", "…");
  const state = { text: "", stats: null };
  const body = { model: $("model").value, messages: history, stream: true,
                 max_tokens: parseInt($("max-tokens").value, 10) || 256 };
  try {
    const resp = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    if (!resp.ok) throw new Error(await errorText(resp));
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (line.startsWith("data: ")) handle(line.slice(6), out, state);
          else if (line.startsWith(": ")) out.textContent = state.text || line.slice(2);  // fusion progress
        }
      }
    }
    out.textContent = state.text;
    history.push({ role: "assistant", content: state.text });
    if (state.stats) statsLine(state.stats);
  } catch (err) {
    out.className = "msg error";
    out.textContent = err.message;
    history.pop();  // the question was not answered: it is not part of the conversation
  }
}

async function loadModels() {
  try {
    const resp = await fetch("/v1/models", { headers: headers() });
    if (!resp.ok) return;
    const names = (await resp.json()).data.map((m) => m.id).filter((id) => id !== "auto");
    for (const name of names) $("model").add(new Option(name, name));
  } catch (e) { /* the list stays "auto" */ }
}

$("ask").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  $("prompt").value = "";
  $("send").disabled = true;
  await send(prompt);
  $("send").disabled = false;
  $("prompt").focus();
});

// Enter sends, except while an input method is composing (Japanese kana to kanji) or with Shift.
$("prompt").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    $("ask").requestSubmit();
  }
});
$("clear").addEventListener("click", () => { history = []; $("log").textContent = ""; });
$("api-key").addEventListener("change", loadModels);
loadModels();
