#!/usr/bin/python3
"""DEAP's NSGA-II on ZDT1 with jMetal's settings (population 100, 250 generations, SBX p = 0.9 eta = 20, polynomial
mutation p = 1/n eta = 20), as in DEAP's own examples/ga/nsga2.py: the baseline bench/nsga2.sh measures against.
Usage: deap_nsga2.py OUT_DIR FIRST_SEED LAST_SEED  -- writes OUT_DIR/seed-<k>.csv and prints one line per seed:
seed, seconds, hypervolume at (1.1, 1.1)."""
import random, sys, time
from deap import base, benchmarks, creator, tools

creator.create("FitnessMin", base.Fitness, weights=(-1.0, -1.0))
creator.create("Individual", list, fitness=creator.FitnessMin)
N, POP, GEN, CXPB, ETA = 30, 100, 250, 0.9, 20.0

toolbox = base.Toolbox()
toolbox.register("attr_float", random.uniform, 0.0, 1.0)
toolbox.register("individual", tools.initRepeat, creator.Individual, toolbox.attr_float, N)
toolbox.register("population", tools.initRepeat, list, toolbox.individual)
toolbox.register("evaluate", benchmarks.zdt1)
toolbox.register("mate", tools.cxSimulatedBinaryBounded, low=0.0, up=1.0, eta=ETA)
toolbox.register("mutate", tools.mutPolynomialBounded, low=0.0, up=1.0, eta=ETA, indpb=1.0 / N)
toolbox.register("select", tools.selNSGA2)


def run(seed):
    random.seed(seed)
    pop = toolbox.population(n=POP)
    for ind, fit in zip(pop, map(toolbox.evaluate, pop)):
        ind.fitness.values = fit
    pop = toolbox.select(pop, len(pop))
    for _ in range(GEN):
        offspring = [toolbox.clone(ind) for ind in tools.selTournamentDCD(pop, len(pop))]
        for a, b in zip(offspring[::2], offspring[1::2]):
            if random.random() <= CXPB:
                toolbox.mate(a, b)
            toolbox.mutate(a)
            toolbox.mutate(b)
            del a.fitness.values, b.fitness.values
        for ind in offspring:
            if not ind.fitness.valid:
                ind.fitness.values = toolbox.evaluate(ind)
        pop = toolbox.select(pop + offspring, POP)
    return [ind.fitness.values for ind in tools.sortNondominated(pop, len(pop), first_front_only=True)[0]]


def hypervolume(front, ref=(1.1, 1.1)):
    area, best = 0.0, ref[1]
    for f1, f2 in sorted(p for p in front if p[0] < ref[0] and p[1] < ref[1]):
        if f2 < best:
            area += (ref[0] - f1) * (best - f2)
            best = f2
    return area


if __name__ == "__main__":
    out, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for seed in range(first, last + 1):
        start = time.perf_counter()
        front = run(seed)
        seconds = time.perf_counter() - start
        with open(f"{out}/seed-{seed}.csv", "w") as f:
            f.writelines(f"{a!r},{b!r}\n" for a, b in front)
        print(f"{seed},{seconds:.4f},{hypervolume(front):.6f}", flush=True)
