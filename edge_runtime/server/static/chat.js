// The chat page: the same OpenAI-compatible API any client uses, streamed, no libraries, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const history = [];  // {role, content} of this conversation, resent each turn as chat clients do

function headers() {
  const key = $("api-key").value;
  return Object.assign({ "Content-Type": "application/json" }, key ? { Authorization: `Bearer ${key}` } : {});
}

function addTurn(prompt) {
  const turn = document.createElement("section");
  turn.className = "turn";
  turn.innerHTML = '<div class="user"></div><div class="assistant"></div><div class="stats"></div>';
  turn.querySelector(".user").textContent = prompt;
  $("log").appendChild(turn);
  return turn;
}

function describe(stats) {
  // The runtime's own account, sent in the last chunk's `edge_runtime` field.
  const parts = [`expert ${stats.expert} (${stats.domain}, ${stats.language})`,
                 `${stats.completion_tokens} tokens`, `${stats.tokens_per_s.toFixed(1)} tok/s`,
                 `first token ${stats.ttft_s.toFixed(2)} s`, `draft ${stats.draft}`];
  if (stats.drafted) parts.push(`acceptance ${(100 * stats.acceptance_rate).toFixed(0)}%`);
  return parts.join(" · ");
}

async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (line.startsWith("data: ")) yield line.slice(6);
      }
    }
  }
}

async function ask(prompt) {
  const turn = addTurn(prompt);
  const out = turn.querySelector(".assistant");
  history.push({ role: "user", content: prompt });
  const body = { model: $("model").value, messages: history, stream: true,
                 max_tokens: Number($("max-tokens").value) || 256 };
  const response = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (!response.ok) {
    const error = await response.json().catch(() => ({ error: { message: response.statusText } }));
    history.pop();
    throw new Error(error.error.message);
  }
  for await (const data of sseEvents(response)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message);
    const delta = chunk.choices.length ? chunk.choices[0].delta.content : null;
    if (delta) out.textContent += delta;
    if (chunk.edge_runtime) turn.querySelector(".stats").textContent = describe(chunk.edge_runtime);
    $("log").scrollTop = $("log").scrollHeight;
  }
  history.push({ role: "assistant", content: out.textContent });
}

async function loadModels() {
  const response = await fetch("/v1/models", { headers: headers() });
  if (response.status === 401) { $("key-label").hidden = false; return; }
  const { data } = await response.json();
  const select = $("model");
  select.length = 0;
  for (const model of data) select.add(new Option(model.id === "auto" ? "auto (routed)" : model.id, model.id));
}

$("ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  $("prompt").value = "";
  $("send").disabled = true;
  try {
    await ask(prompt);
  } catch (error) {
    const note = document.createElement("div");
    note.className = "error";
    note.textContent = `error: ${error.message}`;
    $("log").lastElementChild.appendChild(note);
  } finally {
    $("send").disabled = false;
    $("prompt").focus();
  }
});
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {  // isComposing: Japanese IME input
    event.preventDefault();
    $("ask").requestSubmit();
  }
});
$("api-key").addEventListener("change", loadModels);
$("clear").addEventListener("click", () => { history.length = 0; $("log").textContent = ""; });
loadModels();
