// User ids from a CSV file: one id a line, or the column named userId / user_id (a header row is optional).

export function parseRows(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',' || c === ';' || c === '\t') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows.map((r) => r.map((x) => x.trim())).filter((r) => r.some((x) => x !== ''));
}

const ID_HEADERS = /^(user_?id|userid|user id|id|email)$/i;

export function parseUserIds(text) {
  const rows = parseRows(text.replace(/^\uFEFF/, ''));
  if (!rows.length) return { userIds: [] };
  let col = 0;
  let start = 0;
  const header = rows[0];
  const named = header.findIndex((h) => ID_HEADERS.test(h));
  if (named >= 0) { col = named; start = 1; }
  else if (header.length > 1) return { error: 'This file has several columns but none is named userId, user_id or email. Name the column of user ids, or upload a file with one id per line.' };
  const ids = [];
  for (let i = start; i < rows.length; i++) {
    const v = rows[i][col];
    if (v) ids.push(v);
  }
  return { userIds: [...new Set(ids)] };
}
