// The Express 4 test dependency is installed under an npm alias; its API is the one @types/express describes.
declare module 'express4' {
  import express from 'express';
  export default express;
}
