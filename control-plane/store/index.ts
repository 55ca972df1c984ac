export { ConfigStore, type StoreChange } from './config-store.js';
