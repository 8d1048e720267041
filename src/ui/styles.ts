import { css } from 'lit';

/** Styles every view shares (each view's shadow root adopts them). */
export const base = css`
  :host {
    display: block;
    font: inherit;
    color: #1b1f24;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  section {
    background: #fff;
    border: 1px solid #dde3ea;
    border-radius: 8px;
    padding: 1rem 1.25rem;
    margin: 1rem 0;
    min-width: 0;
    overflow-wrap: break-word;
  }
  /* Ids, hashes and multiaddrs have no spaces: they break anywhere rather than widen the page. */
  code {
    overflow-wrap: anywhere;
  }
  h2 {
    margin: 0 0 0.5rem;
    font-size: 1.1rem;
  }
  h3 {
    margin: 1rem 0 0.5rem;
    font-size: 1rem;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.25rem 1rem;
    margin: 0;
  }
  dt {
    color: #4a5563;
  }
  dd {
    margin: 0;
    font-variant-numeric: tabular-nums;
    overflow-wrap: anywhere;
  }
  form {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: end;
  }
  fieldset {
    border: 1px solid #dde3ea;
    border-radius: 6px;
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: end;
    min-width: 0;
    max-width: 100%;
  }
  label {
    display: inline-flex;
    flex-direction: column;
    gap: 0.15rem;
    min-width: 0;
    max-width: 100%;
  }
  label.inline {
    flex-direction: row;
    align-items: center;
    gap: 0.4rem;
  }
  input[type='number'] {
    width: 6rem;
  }
  textarea {
    width: 100%;
    max-width: 100%;
  }
  input[type='file'],
  select {
    max-width: 100%;
  }
  button {
    padding: 0.35rem 0.9rem;
    font: inherit;
    cursor: pointer;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  summary:focus-visible {
    outline: 3px solid #1d5fd1;
    outline-offset: 2px;
  }
  table {
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
    width: 100%;
  }
  th,
  td {
    padding: 0.2rem 0.6rem;
    text-align: left;
    border-bottom: 1px solid #e6ebf0;
    overflow-wrap: anywhere;
  }
  .scroll {
    overflow-x: auto;
  }
  .ok {
    color: #11663f;
  }
  .error {
    color: #a61b11;
  }
  .muted {
    color: #4a5563;
  }
  @media (max-width: 480px) {
    section {
      padding: 0.75rem;
    }
    /* A term above its value: two columns leave the values too little room at phone widths. */
    dl {
      grid-template-columns: minmax(0, 1fr);
      gap: 0;
    }
    dd {
      margin-bottom: 0.35rem;
    }
    th,
    td {
      padding: 0.2rem 0.35rem;
    }
  }
`;

/** The jobs list (src/ui/jobs-view.ts): progress bars, stall notices, downloads. */
export const jobsCss = css`
  ul#my-jobs {
    list-style: none;
    padding: 0;
    margin: 0;
  }
  ul#my-jobs > li {
    border-top: 1px solid #e6ebf0;
    padding: 0.75rem 0;
    overflow-wrap: anywhere;
  }
  .bar {
    display: flex;
    height: 0.9rem;
    background: #eef2f6;
    border-radius: 4px;
    overflow: hidden;
    margin: 0.4rem 0;
  }
  .bar span {
    display: block;
    height: 100%;
  }
  .verified {
    background: #11663f;
  }
  .awaiting {
    background: #c98a00;
  }
  .leased {
    background: #8fb3e8;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  .stall {
    border-left: 4px solid #c98a00;
    padding: 0.25rem 0.6rem;
    background: #fff8e6;
  }
  form.set-price {
    margin: 0.4rem 0;
  }
  ol.generated li {
    font-family: ui-monospace, monospace;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
`;
