// Evaluated on each inbox page by test_xss_browser.py: what a payload could have injected.
() => {
  const found = [];
  const ours = location.origin + "/static/";
  for (const s of document.querySelectorAll("script")) {
    if (!s.src || !s.src.startsWith(ours)) {
      found.push("script " + (s.src || s.textContent.slice(0, 60)));
    }
  }
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href"];
  const scriptUrl = /^\s*(javascript|vbscript|data:text\/html)/i;
  const foreign = ["IFRAME", "OBJECT", "EMBED", "SVG", "MATH", "FRAME", "BASE", "META"];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (a.name.startsWith("on")) found.push(el.tagName + " " + a.name);
      if (urlAttributes.includes(a.name) && scriptUrl.test(a.value)) {
        found.push(el.tagName + " " + a.name + "=" + a.value.slice(0, 40));
      }
    }
    if (foreign.includes(el.tagName.toUpperCase()) && !el.closest("head")) found.push(el.tagName);
  }
  return found.concat(window.__xss || []);
}
