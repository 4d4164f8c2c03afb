// The follow page behind a capability link (/follow/<token>): the progress of one request or complaint,
// and a rating of 1-5 once the work is done. Shows no names or phone numbers (the API gives none).

import { api, explain, formatWhen, rt, startPage } from "./resident-page.js";

const $ = (selector) => document.querySelector(selector);
const token = window.location.pathname.split("/").pop();
let shown = null;

function step(milestone) {
  const item = document.createElement("li");
  item.className = milestone.at ? "done" : "";
  item.dataset.step = milestone.step;
  item.append(rt(`step.${milestone.step}`));
  if (milestone.at) {
    const when = document.createElement("time");
    when.dateTime = milestone.at;
    when.textContent = formatWhen(milestone.at);
    item.append(when);
  }
  return item;
}

function stars() {
  const legend = $("#stars legend");
  const choices = [1, 2, 3, 4, 5].map((score) => {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "radio", name: "satisfaction",
      value: String(score) });
    const text = document.createElement("span");
    text.textContent = "★".repeat(score);
    label.append(input, text);
    label.title = rt(`score.${score}`);
    input.setAttribute("aria-label", rt(`score.${score}`));
    return label;
  });
  $("#stars").replaceChildren(legend, ...choices);
}

function draw(progress) {
  shown = progress;
  $("#kind-label").textContent = rt(`kind.${progress.kind}`);
  $("#number").textContent = `#${progress.id}`;
  $("#headline").textContent = progress.kind === "complaint" ? rt(`category.${progress.title}`) : progress.title;
  $("#status").textContent = rt(progress.cancelled ? "follow.cancelled" : `status.${progress.status}`);
  $("#steps").replaceChildren(...progress.milestones.map(step));
  $("#answer").textContent = progress.answer;
  $("#answer-box").hidden = !progress.answer;
  $("#progress").hidden = false;
  $("#rating").hidden = !progress.can_rate;
  $("#rated").hidden = progress.satisfaction === null;
  if (progress.satisfaction !== null) $("#rated").textContent = rt("follow.rated", { score: progress.satisfaction });
}

async function load() {
  try {
    draw(await api(`follow/${encodeURIComponent(token)}`));
  } catch {
    $("#progress").hidden = true;
    $("#gone").hidden = false;
  }
}

async function rate(event) {
  event.preventDefault();
  const chosen = document.querySelector('input[name="satisfaction"]:checked');
  if (!chosen) {
    $("#error").textContent = rt("error.choose_score");
    return;
  }
  $("#rate").disabled = true;
  try {
    const body = { satisfaction: Number(chosen.value), comment: $("#comment").value.trim() };
    draw(await api(`follow/${encodeURIComponent(token)}/rating`, { method: "POST", body }));
    $("#error").textContent = "";
  } catch (error) {
    $("#error").textContent = rt("error.not_sent", { reason: explain(error) });
  } finally {
    $("#rate").disabled = false;
  }
}

async function main() {
  await startPage("follow.title", () => { stars(); if (shown) draw(shown); });
  stars();
  $("#refresh").addEventListener("click", load);
  $("#rating").addEventListener("submit", rate);
  await load();
}

main();
