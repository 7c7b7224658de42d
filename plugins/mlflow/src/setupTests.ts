import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// Lazy extension loaders and whole test apps can take more than a second on a loaded machine.
configure({ asyncUtilTimeout: 10_000 });
