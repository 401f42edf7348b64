// The phone lab: each phone on the page mirrors an interactive phone of the Twilio emulator,
// relayed by the app (/lab/handsets). The page polls their state, speaks new prompts with the
// browser's speech synthesis, and sends what the person does (keys, speech, answer, hang up).
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lab = document.getElementById("lab");
  const customerPhone = document.getElementById("customer-phone");
  const customerNumber = document.getElementById("customer-number");
  const speakAloud = document.getElementById("speak-aloud");
  const spoken = {};  // call sid -> lines already spoken
  let speechTimer = null;

  const post = (path, body) =>
    fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}),
    });

  const phones = () => [...lab.querySelectorAll(".phone")];
  const numberOf = (phone) => phone.dataset.number;

  function beep() {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.3);
  }

  function say(text, language) {
    if (!speakAloud.checked || !("speechSynthesis" in window)) return;
    if (text === "[beep]") return beep();
    const utterance = new SpeechSynthesisUtterance(text);
    if (language) utterance.lang = language;
    window.speechSynthesis.speak(utterance);
  }

  // The status lines in the page's language, from the pages' catalog (data-statuses on #lab).
  const statuses = JSON.parse(lab.dataset.statuses);
  const said = (key, values = {}) => statuses[key].replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");

  function statusText(state) {
    if (state.status === "ringing") return said("ringing", { number: state.ringing_from });
    if (state.status === "idle") return state.call ? said("ended", { status: state.call.status }) : said("idle");
    if (state.talking_with) return said("talking", { number: state.talking_with });
    if (state.listening === "keys") return said("keys");
    if (state.listening === "record") return said("record");
    return said("in_call");
  }

  // A phone answered by its voicemail is the emulator's answering machine, not a handset:
  // nothing to press or hear here, and machine detection tells the desk it is a machine.
  function showMode(phone) {
    const voicemail = phone.querySelector(".mode").value === "voicemail";
    phone.dataset.mode = voicemail ? "voicemail" : "person";
    if (!voicemail) return;
    phone.querySelector(".status").textContent = "Voicemail: picks up after 1 s and plays its greeting";
    phone.classList.remove("ringing");
    phone.querySelectorAll("[data-action], [data-key]").forEach((button) => (button.disabled = true));
  }

  function render(phone, state) {
    if (phone.dataset.mode === "voicemail") return;
    phone.querySelector(".status").textContent = statusText(state);
    phone.classList.toggle("ringing", state.status === "ringing");
    phone.dataset.status = state.status;
    phone.dataset.listening = state.listening || "";
    const screen = phone.querySelector(".screen");
    const heard = state.call ? state.call.heard : [];
    if (screen.childElementCount !== heard.length || screen.dataset.sid !== (state.call && state.call.sid)) {
      screen.replaceChildren(...heard.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
      screen.dataset.sid = state.call ? state.call.sid : "";
      screen.scrollTop = screen.scrollHeight;
    }
    if (state.call) {
      const done = spoken[state.call.sid] || 0;
      heard.slice(done).forEach((line) => say(line, state.language));
      spoken[state.call.sid] = heard.length;
    }
    const can = {
      call: phone === customerPhone && state.status === "idle",
      answer: state.status === "ringing",
      decline: state.status === "ringing",
      hangup: state.status === "in-call",
    };
    phone.querySelectorAll("[data-action]").forEach((button) => {
      button.disabled = !can[button.dataset.action];
      button.hidden = button.dataset.action === "call" ? phone !== customerPhone : false;
    });
    phone.querySelectorAll("[data-key]").forEach((button) => (button.disabled = state.status !== "in-call"));
  }

  async function poll() {
    try {
      const reply = await fetch("/lab/handsets", { headers: { Accept: "application/json" } });
      if (reply.ok) {
        const states = await reply.json();
        phones().forEach((phone) => states[numberOf(phone)] && render(phone, states[numberOf(phone)]));
      }
    } finally {
      setTimeout(poll, 500);
    }
  }

  // A text message as the phone shows it: its links can be followed (the caller's callback page).
  function textMessage(body) {
    const line = document.createElement("p");
    body.split(/(https?:\/\/\S+)/).forEach((part, index) => {
      if (index % 2) line.append(Object.assign(document.createElement("a"), { href: part, textContent: part, target: "_blank" }));
      else line.append(part);
    });
    return line;
  }

  async function pollTexts() {
    try {
      const reply = await fetch("/lab/messages", { headers: { Accept: "application/json" } });
      if (reply.ok) {
        const mine = (await reply.json()).filter((message) => message.to === customerPhone.dataset.number);
        const texts = document.getElementById("customer-texts");
        if (mine.length && texts.dataset.count !== String(mine.length)) {
          texts.replaceChildren(...mine.map((message) => textMessage(message.body)));
          texts.dataset.count = String(mine.length);
        }
      }
    } finally {
      setTimeout(pollTexts, 1500);
    }
  }

  async function takePhones() {
    customerPhone.dataset.number = customerNumber.value;
    document.getElementById("customer-texts").dataset.count = "";
    const reply = await post("/lab/handsets", { customer: customerNumber.value });
    const voicemail = reply.ok ? (await reply.json()).voicemail || [] : [];
    phones().forEach((phone) => {
      phone.querySelector(".mode").value = voicemail.includes(numberOf(phone)) ? "voicemail" : "person";
      showMode(phone);
    });
  }

  lab.addEventListener("change", async (event) => {
    const phone = event.target.closest(".phone");
    if (!phone || !event.target.matches(".mode")) return;
    await post(`/lab/phones/${encodeURIComponent(numberOf(phone))}`, { mode: event.target.value });
    showMode(phone);
  });

  lab.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    const phone = event.target.closest(".phone");
    if (!button || !phone) return;
    const number = encodeURIComponent(numberOf(phone));
    if (button.dataset.key) {
      const speech = phone.querySelector(".speech");
      if (phone.dataset.listening === "record" && speech.value.trim()) {
        await post(`/lab/handsets/${number}/speech`, { text: speech.value });
      }
      await post(`/lab/handsets/${number}/keys`, { keys: button.dataset.key });
    } else if (button.dataset.action) {
      await post(`/lab/handsets/${number}/${button.dataset.action}`);
    }
  });

  // Typing into the speech box is talking: it keeps a recording from ending on silence.
  lab.addEventListener("input", (event) => {
    const phone = event.target.closest(".phone");
    if (!event.target.matches(".speech") || phone.dataset.listening !== "record") return;
    clearTimeout(speechTimer);
    speechTimer = setTimeout(
      () => post(`/lab/handsets/${encodeURIComponent(numberOf(phone))}/speech`, { text: event.target.value }),
      300,
    );
  });

  customerNumber.addEventListener("change", takePhones);
  takePhones().then(() => {
    poll();
    pollTexts();
  });
})();
