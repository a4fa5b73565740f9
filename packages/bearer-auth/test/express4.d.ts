// Test-only typing for the `express4` npm alias (express@4): the API used here is the same as 5's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
