// The length of a reply as its platform counts it, for the composer's live counter. The rule
// comes from the channel's connector (Connector.count_rule, the composer's data-count-rule):
// "chars" counts code points; "weighted" is X's twitter-text v3 rule, the one the server counts
// with (channels/x/counting.py): NFC text, a URL weighs url_length whatever its length, an emoji
// sequence (a flag, a skin tone, a ZWJ family, a keycap) weighs default_weight once, every other
// code point default_weight unless it falls in one of the ranges; the sum divided by scale.
// The server's count, fetched after a pause, stays the judge before sending.
(function () {
  "use strict";

  // The top-level domains (generic, country, punycode) and accented letters X accepts in a
  // bare domain such as "example.nl" or "shop.amsterdam": static/js/x-domains.js, generated
  // from the server's own twitter-text lists (manage.py x_domains_js), loaded before this file.
  var DOMAINS = window.webcareXDomains || { tlds: "com|net|org", punycode: "(?:xn--[\\-0-9a-z]+)", accents: "" };
  var URL = new RegExp("(^|[^\\w@.])(https?:\\/\\/[^\\s<>\"]+|(?:[\\-a-z0-9" + DOMAINS.accents + "]+\\.)+" +
    "(?:(?:" + DOMAINS.tlds + ")|" + DOMAINS.punycode + ")(?=[^0-9a-zA-Z@+-]|$)(?:\\/[^\\s<>\"]*)?)", "giu");
  var TRAILING = /[.,:;!?)'"]+$/;
  // As twitter-text's emoji list: (c) and (r) count as emoji even without U+FE0F.
  var EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;

  function weightOf(code, rule) {
    for (var i = 0; i < rule.ranges.length; i++) {
      var r = rule.ranges[i];
      if (code >= r[0] && code <= r[1]) { return r[2]; }
    }
    return rule.default_weight;
  }

  function graphemes(text) {
    if (window.Intl && Intl.Segmenter) {
      return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text),
        function (s) { return s.segment; });
    }
    return Array.from(text);
  }

  function weighted(text, rule) {
    var total = 0;
    var rest = text.replace(URL, function (match, before, url) {
      var tail = (url.match(TRAILING) || [""])[0];
      total += rule.url_length * rule.scale;
      return before + "\u0000" + tail;
    });
    graphemes(rest).forEach(function (g) {
      if (g === "\u0000") { return; }
      if (EMOJI.test(g)) { total += rule.default_weight; return; }
      Array.from(g).forEach(function (ch) { total += weightOf(ch.codePointAt(0), rule); });
    });
    return Math.floor(total / rule.scale);
  }

  // The count of ``text`` under ``rule`` (an object, or the JSON of the data attribute).
  window.webcareCount = function (text, rule) {
    if (typeof rule === "string") { try { rule = JSON.parse(rule); } catch (e) { rule = null; } }
    text = (text || "").normalize("NFC");
    if (!rule || rule.kind !== "weighted") { return Array.from(text).length; }
    return weighted(text, rule);
  };

  // The reply as posted: the text, then the agent's signature on its own line (the server's
  // inbox.replies.services.reply_text), so both count the same thing.
  window.webcareReplyText = function (text, signature) {
    text = (text || "").trim();
    signature = (signature || "").trim();
    return signature ? text + "\n" + signature : text;
  };
})();
