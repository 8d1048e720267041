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
  }
  label.inline {
    flex-direction: row;
    align-items: center;
    gap: 0.4rem;
  }
  input[type='number'] {
    width: 6rem;
  }
  textarea,
  input[type='file'] {
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
  }
`;
