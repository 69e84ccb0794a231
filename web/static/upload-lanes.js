// The upload page's lane-to-role step: when a diagram is chosen, its lanes are read in the browser and each
// gets a role picker (preset from its name, else "default role"); the choices are sent as the `lanes` JSON.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const file = document.getElementById("bpmn");
  const lanesText = document.getElementById("lanes");
  const step = document.getElementById("lane-step");
  if (!form || !file || !lanesText || !step) return;
  const roles = JSON.parse(step.dataset.roles || "[]");
  const list = step.querySelector("ol");

  function normal(name) {
    return name.trim().toLowerCase().replace(/[\s-]+/g, "_");
  }

  function render(laneNames) {
    list.textContent = "";
    const given = (() => { try { return JSON.parse(lanesText.value || "{}"); } catch (e) { return {}; } })();
    laneNames.forEach((name, n) => {
      const li = document.createElement("li");
      const label = document.createElement("label");
      label.htmlFor = "lane-role-" + n;
      label.textContent = name + " ";
      const select = document.createElement("select");
      select.id = "lane-role-" + n;
      select.dataset.lane = name;
      const fallback = document.createElement("option");
      fallback.value = "";
      fallback.textContent = "default role";
      select.appendChild(fallback);
      roles.forEach((role) => {
        const opt = document.createElement("option");
        opt.value = role;
        opt.textContent = role;
        select.appendChild(opt);
      });
      select.value = given[name] || (roles.includes(normal(name)) ? normal(name) : "");
      li.appendChild(label);
      li.appendChild(select);
      list.appendChild(li);
    });
    step.hidden = laneNames.length === 0;
  }

  file.addEventListener("change", () => {
    const chosen = file.files && file.files[0];
    if (!chosen) { render([]); return; }
    chosen.text().then((text) => {
      const doc = new DOMParser().parseFromString(text, "application/xml");
      const names = Array.from(doc.getElementsByTagNameNS("*", "lane"))
        .map((lane) => lane.getAttribute("name") || lane.getAttribute("id") || "")
        .filter((name, i, all) => name && all.indexOf(name) === i);
      render(names);
    });
  });

  form.addEventListener("submit", () => {
    if (step.hidden) return;
    const mapping = {};
    list.querySelectorAll("select[data-lane]").forEach((select) => {
      if (select.value) mapping[select.dataset.lane] = select.value;
    });
    lanesText.value = Object.keys(mapping).length ? JSON.stringify(mapping) : "";
  });
})();
