"""A memory-aware order: a topological order of a network's steps with a lower peak.

The graph splits at steps every path passes: all earlier steps are their ancestors and all
later ones their descendants, so every order runs the same steps before them, and the live
memory there is the same. The parts in between are independent. Each part is searched
exhaustively while the search stays within its budget: a dynamic program over the part's
downsets (the sets of its steps that can have run), as SERENITY (Ahn et al., MLSys 2020)
does. The live memory after a downset does not depend on the order within it, so each downset
keeps only its lowest peak so far, and the result is optimal. A part past the budget is ordered
greedily (the ready step that needs least, then leaves least live), or kept in graph order
where that is no worse. Steps that depend on no input hold no memory and go first.

Finding the parts is linear: step c at position i is one when no edge from before i lands
after i, no step before i is a sink, and no step after i is a source (each earlier step then
has a path to c, and each later one a path from it).
"""

from __future__ import annotations

from collections.abc import Sequence

from .memory import STATIC, BestOrder, Plan, peak, simulate

#: Exhaustive search: candidate checks (downsets × steps of their part) over the whole network.
#: About a second; a chain of any length needs one per step.
SEARCH_BUDGET = 1_000_000
#: Greedy ordering: candidate checks (ready steps looked at) over the whole network.
GREEDY_BUDGET = 2_000_000


class _Parts:
    """The dynamic steps (those holding memory), their edges, and where every order agrees."""

    def __init__(self, p: Plan) -> None:
        n = len(p.rows)
        self.steps = [s for s in range(n) if p.how[s] != STATIC]
        position = [-1] * n
        for i, s in enumerate(self.steps):
            position[s] = i
        m = len(self.steps)
        self.preds: list[list[int]] = [[] for _ in range(m)]
        last_succ = [-1] * m
        outdeg = [0] * m
        for i, s in enumerate(self.steps):
            for a in p.after[s]:
                j = position[a]
                if j >= 0:
                    self.preds[i].append(j)
                    last_succ[j] = max(last_succ[j], i)
                    outdeg[j] += 1
        sources_after = [0] * (m + 1)
        for i in range(m - 1, -1, -1):
            sources_after[i] = sources_after[i + 1] + (not self.preds[i])
        self.bounds: list[tuple[int, int]] = []
        start, reach, sinks = 0, -1, 0
        for i in range(m):
            if reach <= i and not sinks and not sources_after[i + 1]:
                self.bounds.append((start, i + 1))
                start = i + 1
            reach = max(reach, last_succ[i])
            sinks += not outdeg[i]
        if start < m:
            self.bounds.append((start, m))


class _Search:
    def __init__(self, p: Plan, budget: int) -> None:
        self.p = p
        self.budget = budget
        self.greedy_budget = GREEDY_BUDGET
        self.remaining = list(p.consumers)
        self.live = sum(p.sizes[b] for b in p.inputs)

    def advance(self, order: Sequence[int]) -> None:
        """Run ``order``'s steps: the state after them (the same in any order of a part)."""
        p, remaining = self.p, self.remaining
        for s in order:
            self.live += p.out[s]
            for b in p.reads[s]:
                remaining[b] -= 1
                if not remaining[b] and not p.kept[b]:
                    self.live -= p.sizes[b]
            w = p.writes[s]
            if w >= 0 and not remaining[w] and not p.kept[w]:
                self.live -= p.sizes[w]

    def peak_of(self, order: Sequence[int]) -> int:
        """The peak of a part's steps in ``order``, from the current state (which is kept)."""
        p = self.p
        remaining = {b: self.remaining[b] for s in order for b in p.reads[s]}
        live, top = self.live, 0
        for s in order:
            top = max(top, live + p.out[s] + p.delta[s])
            live += p.out[s]
            for b in p.reads[s]:
                remaining[b] -= 1
                if not remaining[b] and not p.kept[b]:
                    live -= p.sizes[b]
            w = p.writes[s]
            if w >= 0 and not p.consumers[w] and not p.kept[w]:
                live -= p.sizes[w]
        return top

    def exhaustive(self, steps: Sequence[int], preds: Sequence[Sequence[int]]) -> list[int] | None:
        """The part's order of least peak (a DP over downsets), or None past the budget."""
        p = self.p
        m = len(steps)
        need_mask = [sum(1 << j for j in ps) for ps in preds]
        users: dict[int, int] = {}  # buffer → the part's steps reading it, as a bit mask
        for j, s in enumerate(steps):
            for b in p.reads[s]:
                users[b] = users.get(b, 0) | (1 << j)
        freeable = {
            b: mask for b, mask in users.items() if not p.kept[b] and self.remaining[b] == mask.bit_count()
        }
        level: dict[int, tuple[int, int]] = {0: (0, self.live)}
        came: dict[int, tuple[int, int]] = {}
        for _ in range(m):
            following: dict[int, tuple[int, int]] = {}
            self.budget -= len(level) * m
            if self.budget < 0:
                return None
            for done, (top, live) in level.items():
                for j in range(m):
                    bit = 1 << j
                    if done & bit or need_mask[j] & ~done:
                        continue
                    s = steps[j]
                    reached = max(top, live + p.out[s] + p.delta[s])
                    after = done | bit
                    seen = following.get(after)
                    if seen is not None and seen[0] <= reached:
                        continue
                    left = live + p.out[s]
                    for b in p.reads[s]:
                        mask = freeable.get(b)
                        if mask is not None and not mask & ~after:
                            left -= p.sizes[b]
                    w = p.writes[s]
                    if w >= 0 and not p.consumers[w] and not p.kept[w]:
                        left -= p.sizes[w]
                    following[after] = (reached, left)
                    came[after] = (done, j)
            level = following
        order: list[int] = []
        at = (1 << m) - 1
        while at:
            before, j = came[at]
            order.append(steps[j])
            at = before
        order.reverse()
        return order

    def greedy(self, steps: Sequence[int], preds: Sequence[Sequence[int]]) -> list[int] | None:
        """The ready step needing least (then leaving least) first, or None past the budget."""
        p = self.p
        m = len(steps)
        waiting = [len(ps) for ps in preds]
        succs: list[list[int]] = [[] for _ in range(m)]
        for j, ps in enumerate(preds):
            for i in ps:
                succs[i].append(j)
        remaining = {b: self.remaining[b] for s in steps for b in p.reads[s]}
        ready = [j for j in range(m) if not waiting[j]]
        live = self.live
        order = []
        while ready:
            self.greedy_budget -= len(ready)
            if self.greedy_budget < 0:
                return None
            best, best_key = 0, (0, 0)
            for k, j in enumerate(ready):
                s = steps[j]
                left = live + p.out[s]
                for b in p.reads[s]:
                    if remaining[b] == 1 and not p.kept[b]:
                        left -= p.sizes[b]
                key = (live + p.out[s] + p.delta[s], left)
                if k == 0 or key < best_key:
                    best, best_key = k, key
            j = ready.pop(best)
            s = steps[j]
            order.append(s)
            live = best_key[1]
            for b in p.reads[s]:
                remaining[b] -= 1
            w = p.writes[s]
            if w >= 0 and not p.consumers[w] and not p.kept[w]:
                live -= p.sizes[w]
            for i in succs[j]:
                waiting[i] -= 1
                if not waiting[i]:
                    ready.append(i)
        return order


def best_order(p: Plan, scale: int, graph_need: Sequence[int], budget: int | None = None) -> BestOrder:
    """An order of ``p``'s steps with a peak no higher than graph order's (whose needs are given)."""
    parts = _Parts(p)
    search = _Search(p, SEARCH_BUDGET if budget is None else budget)
    order = [s for s in range(len(p.rows)) if p.how[s] == STATIC]
    searched = 0
    greedy_used = False
    for lo, hi in parts.bounds:
        steps = parts.steps[lo:hi]
        preds = [[i - lo for i in parts.preds[j] if i >= lo] for j in range(lo, hi)]
        chosen: list[int] | None = steps if len(steps) == 1 else search.exhaustive(steps, preds)
        if chosen is not None:
            searched += 1
        else:
            tried = search.greedy(steps, preds)
            chosen = steps
            if tried is not None and search.peak_of(tried) < search.peak_of(steps):
                chosen = tried
                greedy_used = True
        order.extend(chosen)
        search.advance(chosen)
    need = simulate(p, order)
    if need and max(need) > max(graph_need):  # pragma: no cover - each part is no worse than its own
        order, need = list(range(len(p.rows))), list(graph_need)
    names = p.names
    top, at = peak([names[s] for s in order], need, scale)
    optimal = searched == len(parts.bounds)
    method = (
        "exhaustive search (optimal)"
        if optimal
        else "greedy, or graph order where no better, in the parts past the search budget"
        if greedy_used
        else "graph order in the parts past the search budget"
    )
    return BestOrder(top, at, tuple(names[s] for s in order), method, optimal, len(parts.bounds), searched)
