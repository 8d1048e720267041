// The app page: one <tessel-app> element (src/ui/app.ts) builds everything.
import './style.css';
import './app';
