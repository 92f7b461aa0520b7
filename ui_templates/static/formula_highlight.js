// The formula language's tokens, for the editor's highlighting: a light scanner that
// follows the grammar's lexical rules (rule_engine/grammar.lark) closely enough to colour
// what the admin types. It never decides validity; the server's check does, and its
// error span is drawn over the tokens as a <mark>.

const TOKEN = new RegExp(
  [
    String.raw`(?<comment>\/\*[\s\S]*?(?:\*\/|$))`,
    String.raw`(?<string>"(?:\\[\s\S]|[^"\\])*(?:"|$)|'(?:\\[\s\S]|[^'\\])*(?:'|$))`,
    String.raw`(?<number>\d+(?:\.\d*)?|\.\d+)`,
    String.raw`(?<name>\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`,
    String.raw`(?<operator>&&|\|\||==|!=|<>|<=|>=|[=<>+\-*/^&!])`,
    String.raw`(?<punctuation>[(),])`,
    String.raw`(?<space>\s+)`,
  ].join("|"),
  "y",
);
const LITERALS = new Set(["TRUE", "FALSE", "NULL"]);
const WORD_OPERATORS = new Set(["NOT"]);

// The source as [text, kind] pieces, in order, covering every character.
export function tokens(source) {
  const found = [];
  let at = 0;
  while (at < source.length) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(source);
    if (!match || !match[0]) {
      found.push([source[at], "unknown"]);
      at += 1;
      continue;
    }
    const kind = Object.entries(match.groups).find(([, text]) => text !== undefined)[0];
    const text = match[0];
    at += text.length;
    found.push([text, kind === "name" ? nameKind(text, source.slice(at)) : kind]);
  }
  return found;
}

function nameKind(text, rest) {
  const upper = text.toUpperCase();
  if (LITERALS.has(upper)) {
    return "literal";
  }
  if (/^\s*\(/.test(rest)) {
    return "function";
  }
  if (WORD_OPERATORS.has(upper)) {
    return "operator";
  }
  return text.startsWith("$") ? "global" : "field";
}

// Fill ``pre`` with the highlighted source; characters in [error.start, error.end) go in
// one <mark data-formula-error> (an empty span past the end shows as a space).
export function render(pre, source, error) {
  const pieces = [];
  let at = 0;
  for (const [text, kind] of tokens(source)) {
    const cuts = error ? [error.start, error.end].filter((cut) => cut > at && cut < at + text.length) : [];
    let from = 0;
    for (const cut of [...cuts, at + text.length]) {
      pieces.push({ text: text.slice(from, cut - at), kind, start: at + from });
      from = cut - at;
    }
    at += text.length;
  }
  const nodes = [];
  let mark = null;
  for (const piece of pieces) {
    const span = document.createElement("span");
    span.className = `formula-token formula-${piece.kind}`;
    span.textContent = piece.text;
    const inError = error && piece.start >= error.start && piece.start < error.end;
    if (inError) {
      mark = mark || newMark(nodes);
      mark.append(span);
    } else {
      nodes.push(span);
    }
  }
  if (error && !mark) {
    // An error at the very end (a missing value): underline a space after the text.
    newMark(nodes).textContent = " ";
  }
  // A final newline needs a character after it to take up its line, as the textarea's does.
  nodes.push(document.createTextNode("\n "));
  pre.replaceChildren(...nodes);
}

function newMark(nodes) {
  const mark = document.createElement("mark");
  mark.className = "formula-error-mark";
  mark.dataset.formulaError = "";
  nodes.push(mark);
  return mark;
}
