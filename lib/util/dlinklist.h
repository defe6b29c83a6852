/*
 * Intrusive doubly linked lists: an element has ->prev and ->next; the
 * head's prev is NULL.  DLIST_ADD_END walks the list, so keep lists that
 * grow long appended at the head.
 */
#ifndef LIB_UTIL_DLINKLIST_H
#define LIB_UTIL_DLINKLIST_H

#define DLIST_ADD(list, p)                                                     \
	do {                                                                   \
		(p)->prev = NULL;                                              \
		(p)->next = (list);                                            \
		if ((list) != NULL) {                                          \
			(list)->prev = (p);                                    \
		}                                                              \
		(list) = (p);                                                  \
	} while (0)

#define DLIST_ADD_END(list, p)                                                 \
	do {                                                                   \
		if ((list) == NULL) {                                          \
			DLIST_ADD(list, p);                                    \
		} else {                                                       \
			__typeof__(list) _t = (list);                          \
			while (_t->next != NULL) {                             \
				_t = _t->next;                                 \
			}                                                      \
			_t->next = (p);                                        \
			(p)->prev = _t;                                        \
			(p)->next = NULL;                                      \
		}                                                              \
	} while (0)

/* Removing an element that is not on the list is a no-op only if its
 * prev/next are NULL and it is not the head: keep them cleared. */
#define DLIST_REMOVE(list, p)                                                  \
	do {                                                                   \
		if ((p) == (list)) {                                           \
			(list) = (p)->next;                                    \
			if ((list) != NULL) {                                  \
				(list)->prev = NULL;                           \
			}                                                      \
		} else {                                                       \
			if ((p)->prev != NULL) {                               \
				(p)->prev->next = (p)->next;                   \
			}                                                      \
			if ((p)->next != NULL) {                               \
				(p)->next->prev = (p)->prev;                   \
			}                                                      \
		}                                                              \
		(p)->prev = NULL;                                              \
		(p)->next = NULL;                                              \
	} while (0)

#endif
