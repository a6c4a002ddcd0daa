/** Largest d for which 'auto' picks the dense eigensolver (a d×d Float64 matrix and its vectors). */
export const DENSE_AUTO_MAX = 2500;
/** Refuse dense above this (memory: 2·d²·8 bytes). */
export const DENSE_MAX = 6000;
