/* Baomi reviewer pages: keyboard review and list <-> text sync. Progressive enhancement only:
   every action also works as a plain form post. Never builds HTML from strings (textContent only). */
(function () {
  "use strict";
  var VERDICT_ZH = {confirmed: "确认风险", false_positive: "误报", accepted_risk: "接受风险"};

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  document.addEventListener("DOMContentLoaded", function () {
    $all("select.autosubmit").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    // d: to the decision form (also on a draft without findings)
    document.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key !== "d" || ev.ctrlKey || ev.metaKey || ev.altKey ||
          (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"))) { return; }
      var dec = $("#decide input[type=radio]:checked") || $("#decide input[type=radio]");
      if (dec) { ev.preventDefault(); dec.scrollIntoView({block: "center"}); dec.focus(); }
    });
    var list = $("#findings");
    if (!list) { return; }
    var items = $all("li.finding", list);
    var csrf = ($("meta[name=csrf-token]") || {}).content || "";
    var cur = -1;

    function marksFor(fid) {
      return $all("mark.hl").filter(function (m) {
        return (" " + (m.getAttribute("data-fids") || "") + " ").indexOf(" " + fid + " ") >= 0;
      });
    }

    // a list item is one group (same rule and text): every occurrence's id is in its data-fids
    function fidsOf(li) { return (li.getAttribute("data-fids") || li.getAttribute("data-fid") || "").split(" "); }
    function itemOf(fid) {
      return items.findIndex(function (li) { return fidsOf(li).indexOf(fid) >= 0; });
    }

    function select(i, opts) {
      opts = opts || {};
      if (i < 0 || i >= items.length) { return; }
      $all("mark.hl.active").forEach(function (m) { m.classList.remove("active"); });
      if (cur >= 0 && items[cur]) { items[cur].classList.remove("current"); items[cur].removeAttribute("aria-current"); }
      cur = i;
      var li = items[i];
      li.classList.add("current");
      li.setAttribute("aria-current", "true");
      var fid = li.getAttribute("data-fid");
      fidsOf(li).forEach(function (x) { marksFor(x).forEach(function (m) { m.classList.add("active"); }); });
      var anchor = document.getElementById("hl-" + fid);
      if (opts.scrollText !== false && anchor) {
        anchor.scrollIntoView({block: "center", behavior: "instant"});
      }
      if (opts.scrollList !== false) { li.scrollIntoView({block: "nearest", behavior: "instant"}); }
      if (history.replaceState) { history.replaceState(null, "", "#f-" + fid); }
      document.body.setAttribute("data-current-finding", fid);
    }

    items.forEach(function (li, i) {
      li.addEventListener("click", function (ev) {
        if (ev.target.closest("form")) { return; }
        select(i);
      });
    });
    // click in the text -> back to the finding in the list
    $all("mark.hl").forEach(function (m) {
      m.addEventListener("click", function () {
        var fid = (m.getAttribute("data-fids") || "").split(" ")[0];
        var i = itemOf(fid);
        if (i >= 0) { select(i, {scrollText: false}); }
      });
    });
    $all("a.boxlink").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var fid = a.getAttribute("data-fid");
        var i = itemOf(fid);
        if (i >= 0) { select(i, {scrollText: false}); }
      });
    });

    function showVerdict(li, verdict, reason) {
      ["confirmed", "false_positive", "accepted_risk"].forEach(function (v) { li.classList.remove("v-" + v); });
      li.classList.add("judged", "v-" + verdict);
      var p = $(".vstate", li);
      p.textContent = "";
      var b = document.createElement("b");
      b.textContent = VERDICT_ZH[verdict] || verdict;
      p.appendChild(b);
      if (reason) { p.appendChild(document.createTextNode("：" + reason)); }
      li.classList.remove("st-open", "st-carried");
      li.classList.add("st-judged");
      var open = items.filter(function (x) { return x.classList.contains("needs") && !x.classList.contains("judged"); }).length;
      var oc = $("#open-count");
      if (oc) { oc.textContent = String(open); }
      ["confirmed", "false_positive", "accepted_risk"].forEach(function (v) {
        var el = document.getElementById("n-" + v);
        if (el) { el.textContent = String(items.filter(function (x) { return x.classList.contains("v-" + v); }).length); }
      });
    }

    function showError(li, msg) {
      var p = $(".vstate", li);
      p.textContent = "";
      var s = document.createElement("span");
      s.className = "danger";
      s.textContent = "✗ " + msg;
      p.appendChild(s);
    }

    function save(li) {
      var form = $("form.vform", li);
      if (!form) { return Promise.resolve(false); }
      var verdict = form.elements.verdict.value;
      var reason = form.elements.reason.value.trim();
      if (verdict !== "confirmed" && reason.length < 2) {
        form.elements.reason.focus();
        showError(li, "判定为误报或接受风险时请填写理由，然后按回车。");
        return Promise.resolve(false);
      }
      form.classList.add("busy");
      return fetch(form.getAttribute("data-api"), {
        method: "PUT", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify({verdict: verdict, reason: reason})
      }).then(function (r) {
        return r.json().then(function (body) {
          form.classList.remove("busy");
          if (!r.ok) { showError(li, (body.error && body.error.message) || "保存失败"); return false; }
          showVerdict(li, body.verdict, body.reason);
          li.setAttribute("data-saved", body.verdict);
          return true;
        });
      }).catch(function () { form.classList.remove("busy"); showError(li, "网络错误，未保存"); return false; });
    }

    $all("form.vform").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var li = form.closest("li.finding");
        var i = items.indexOf(li);
        if (i >= 0 && i !== cur) { select(i, {scrollText: false}); }
        // saved: the keyboard goes back to the list (j/k/c/f/a) and on to the next finding
        save(li).then(function (ok) {
          if (!ok) { return; }
          if (document.activeElement && form.contains(document.activeElement)) { document.activeElement.blur(); }
          if (cur < items.length - 1) { select(cur + 1); }
        });
      });
    });

    function setVerdict(v, needReason) {
      if (cur < 0) { select(0); }
      var li = items[cur];
      var form = $("form.vform", li);
      if (!form) { return; }
      form.elements.verdict.value = v;
      if (needReason && form.elements.reason.value.trim().length < 2) {
        form.elements.reason.focus();
        return;
      }
      save(li).then(function (ok) { if (ok && cur < items.length - 1) { select(cur + 1); } });
    }

    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      var t = ev.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
      if (typing) {
        if (ev.key === "Escape") { t.blur(); }
        return;
      }
      if (ev.key === "j") { ev.preventDefault(); select(Math.min(cur + 1, items.length - 1)); }
      else if (ev.key === "k") { ev.preventDefault(); select(Math.max(cur - 1, 0)); }
      else if (ev.key === "c") { ev.preventDefault(); setVerdict("confirmed", false); }
      else if (ev.key === "f") { ev.preventDefault(); setVerdict("false_positive", true); }
      else if (ev.key === "a") { ev.preventDefault(); setVerdict("accepted_risk", true); }

    });

    var m = /^#f-(\d+)$/.exec(location.hash);
    if (m) {
      var i = itemOf(m[1]);
      if (i >= 0) { select(i); }
    }
  });
})();
