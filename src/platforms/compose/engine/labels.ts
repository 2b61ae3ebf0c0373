/** Labels the Compose CLI puts on what it creates; projects are found by these, never by names. */
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_VOLUME = 'com.docker.compose.volume';
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';

/** Marks fatchart's own short-lived helper containers, so a leftover one can be found and removed. */
export const HELPER_LABEL = 'io.fatchart.helper';
/** Marks resources an unpack created (value: the run id), for the journal's rollback. */
export const CREATED_BY_LABEL = 'io.fatchart.created-by';

export const projectFilter = (project: string) => ({ label: [`${COMPOSE_PROJECT}=${project}`] });
